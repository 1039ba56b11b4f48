/** Asks before running a run again from one of its steps, then asks the server to. */
import { useRunActions } from "../hooks/useRunActions";
import { ConfirmDialog } from "./ConfirmDialog";

interface Props {
  runId: string;
  /** The step to run again from; null: the dialog is closed. */
  stepKey: string | null;
  onClose: () => void;
}

export function RetryStepDialog({ runId, stepKey, onClose }: Props) {
  const { retry } = useRunActions(runId);
  return (
    <ConfirmDialog
      open={stepKey !== null}
      onOpenChange={(open) => {
        if (!open) onClose();
      }}
      title={`Retry from step ${stepKey ?? ""}?`}
      confirmLabel="Retry from here"
      cancelLabel="Cancel"
      tone="primary"
      busy={retry.isPending}
      onConfirm={() => {
        if (stepKey !== null && !retry.isPending) retry.mutate(stepKey, { onSettled: onClose });
      }}
    >
      The step <span className="mono">{stepKey}</span> and the steps after it will run again with
      the workflow's current code; the steps before it keep their recorded results. Earlier attempts
      stay listed.
    </ConfirmDialog>
  );
}
