/** The run's actions: Resume (running, paused, failed; disabled, saying why, while a worker
 * executes the run), Pause, Cancel, Fork (any run no worker executes) and Delete. A waiting
 * run needs no Resume (it goes on by itself); it can be paused and cancelled. */
import * as Menu from "@radix-ui/react-dropdown-menu";
import { ChevronDown, GitFork, Pause, Play, Square, Trash2 } from "lucide-react";
import { useState } from "react";
import { useNavigate } from "react-router";
import type { RunStatus } from "../api/types";
import { useRunActions } from "../hooks/useRunActions";
import { forkBlockedReason, resumeBlockedReason } from "../lib/liveness";
import { isSystemStep } from "../lib/timeline";
import { ConfirmDialog } from "./ConfirmDialog";
import { ForkDialog } from "./ForkDialog";

export const RESUMABLE: ReadonlySet<RunStatus> = new Set(["running", "paused", "failed"]);
const PAUSABLE: ReadonlySet<RunStatus> = new Set(["pending", "running", "waiting"]);
const CANCELLABLE: ReadonlySet<RunStatus> = new Set(["pending", "running", "waiting", "paused"]);

interface Props {
  run: {
    id: string;
    name: string;
    status: RunStatus;
    is_live: boolean;
    /** The steps a fork can go again from (in the order they ran). */
    steps?: readonly { key: string }[];
  };
  onDeleted?: () => void;
}

/** A note in a disabled item saying why it is disabled. */
function Reason({ reason }: { reason: string | null }) {
  if (reason === null) return null;
  return (
    <>
      {" "}
      <span className="menu-note">— {reason}</span>
    </>
  );
}

export function RunActionsMenu({ run, onDeleted }: Props) {
  const { resume, pause, cancel, fork, remove } = useRunActions(run.id, { onDeleted });
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [forking, setForking] = useState(false);
  // A worker executes a live run: the server refuses to resume or fork it, so the items say why.
  const blocked = resumeBlockedReason(run);
  const forkBlocked = forkBlockedReason(run);
  const forkableKeys = (run.steps ?? []).map((step) => step.key).filter((k) => !isSystemStep(k));

  const startFork = (fromStep: string | null) =>
    fork.mutate(fromStep, {
      onSuccess: (forked) => {
        setForking(false);
        navigate(`/runs/${forked.id}`);
      },
    });

  const startResume = (event: Event) => {
    // The menu stays open so the item can say "Resuming..." until the server answers.
    event.preventDefault();
    if (resume.isPending) return;
    resume.mutate({}, { onSettled: () => setOpen(false) });
  };

  return (
    <>
      <Menu.Root open={open} onOpenChange={setOpen}>
        <Menu.Trigger asChild>
          <button type="button" className="button" aria-label="Actions">
            Actions <ChevronDown size={14} aria-hidden />
          </button>
        </Menu.Trigger>
        <Menu.Portal>
          <Menu.Content className="menu" align="end" sideOffset={4}>
            {RESUMABLE.has(run.status) && (
              <Menu.Item
                className="menu-item"
                disabled={resume.isPending || blocked !== null}
                onSelect={startResume}
                data-testid="resume-action"
              >
                <Play size={14} aria-hidden />
                {resume.isPending ? "Resuming..." : "Resume"}
                <Reason reason={resume.isPending ? null : blocked} />
              </Menu.Item>
            )}
            {PAUSABLE.has(run.status) && (
              <Menu.Item
                className="menu-item"
                disabled={pause.isPending}
                onSelect={() => pause.mutate()}
              >
                <Pause size={14} aria-hidden />
                {pause.isPending ? "Pausing..." : "Pause"}
              </Menu.Item>
            )}
            {CANCELLABLE.has(run.status) && (
              <Menu.Item
                className="menu-item"
                disabled={cancel.isPending}
                onSelect={() => cancel.mutate()}
              >
                <Square size={14} aria-hidden />
                {cancel.isPending ? "Cancelling..." : "Cancel"}
              </Menu.Item>
            )}
            <Menu.Item
              className="menu-item"
              disabled={forkBlocked !== null}
              onSelect={() => setForking(true)}
              data-testid="fork-action"
            >
              <GitFork size={14} aria-hidden />
              Fork…
              <Reason reason={forkBlocked} />
            </Menu.Item>
            <Menu.Separator className="menu-separator" />
            <Menu.Item className="menu-item danger" onSelect={() => setConfirmDelete(true)}>
              <Trash2 size={14} aria-hidden />
              Delete
            </Menu.Item>
          </Menu.Content>
        </Menu.Portal>
      </Menu.Root>
      <ForkDialog
        open={forking}
        onOpenChange={setForking}
        stepKeys={forkableKeys}
        busy={fork.isPending}
        onFork={startFork}
      />
      <ConfirmDialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        title="Delete this run?"
        confirmLabel="Delete run"
        busy={remove.isPending}
        onConfirm={() => remove.mutate(undefined, { onSettled: () => setConfirmDelete(false) })}
      >
        “{run.name}” and everything it recorded (steps, events, logs) will be deleted. A live run
        cannot be deleted; cancel it first.
      </ConfirmDialog>
    </>
  );
}
