/** Names for the API's shapes, taken from the generated OpenAPI types. */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Project = Schemas["Project"];
export type Definition = Schemas["Definition"];
export type DefinitionList = Schemas["DefinitionList"];
export type Run = Schemas["Run"];
export type RunSummary = Schemas["RunSummary"];
export type RunCreate = Schemas["RunCreate"];
export type RunPage = Schemas["RunPage"];
export type RunStatus = Run["status"];
export type Step = Schemas["Step"];
export type Attempt = Schemas["Attempt"];
export type RunEvent = Schemas["Event"];
export type LogLine = Schemas["LogLine"];
export type Artifact = Schemas["Artifact"];
export type Usage = Schemas["Usage"];
export type WaitingFor = Schemas["WaitingFor"];
export type User = Schemas["User"];
export type ErrorResponse = Schemas["ErrorResponse"];

/** The WebSocket's messages and their payloads (documented as components of the API). */
export type MessageType = Schemas["MessageType"];
export type RunUpdated = Schemas["RunUpdated"];
export type StepCreated = Schemas["StepCreated"];
export type StepUpdated = Schemas["StepUpdated"];
export type EventCreated = Schemas["EventCreated"];
export type LogChunk = Schemas["LogChunk"];

/** Every run status, keyed in the order lists show them (the active ones first): a status
 * the API adds is a type error here until it has its place. */
const RUN_STATUS_ORDER: Record<RunStatus, true> = {
  running: true,
  waiting: true,
  pending: true,
  paused: true,
  failed: true,
  completed: true,
  cancelled: true,
};

export const RUN_STATUSES: readonly RunStatus[] = Object.keys(RUN_STATUS_ORDER) as RunStatus[];
