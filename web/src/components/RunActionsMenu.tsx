/** The run's actions: Resume (running, paused, failed; disabled, saying why, while a worker
 * executes the run), Pause, Cancel, Delete. */
import * as Menu from "@radix-ui/react-dropdown-menu";
import { ChevronDown, Pause, Play, Square, Trash2 } from "lucide-react";
import { useState } from "react";
import type { RunStatus } from "../api/types";
import { useRunActions } from "../hooks/useRunActions";
import { resumeBlockedReason } from "../lib/liveness";
import { ConfirmDialog } from "./ConfirmDialog";

export const RESUMABLE: ReadonlySet<RunStatus> = new Set(["running", "paused", "failed"]);
const PAUSABLE: ReadonlySet<RunStatus> = new Set(["pending", "running"]);
const CANCELLABLE: ReadonlySet<RunStatus> = new Set(["pending", "running", "paused"]);
const ACTIVE_OR_RESUMABLE = new Set([...RESUMABLE, ...PAUSABLE, ...CANCELLABLE]);

interface Props {
  run: { id: string; name: string; status: RunStatus; is_live: boolean };
  onDeleted?: () => void;
}

export function RunActionsMenu({ run, onDeleted }: Props) {
  const { resume, pause, cancel, remove } = useRunActions(run.id, { onDeleted });
  const [open, setOpen] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  // A worker executes a live run: the server refuses to resume it, so the item says why.
  const blocked = resumeBlockedReason(run);

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
                {blocked !== null && !resume.isPending && (
                  <>
                    {" "}
                    <span className="menu-note">— {blocked}</span>
                  </>
                )}
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
            {ACTIVE_OR_RESUMABLE.has(run.status) && <Menu.Separator className="menu-separator" />}
            <Menu.Item className="menu-item danger" onSelect={() => setConfirmDelete(true)}>
              <Trash2 size={14} aria-hidden />
              Delete
            </Menu.Item>
          </Menu.Content>
        </Menu.Portal>
      </Menu.Root>
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
