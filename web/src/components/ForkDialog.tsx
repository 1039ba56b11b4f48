/** Fork: choose the step the new run goes again from (the steps before it are reused), or
 * the start (nothing is reused). */
import * as Dialog from "@radix-ui/react-dialog";
import { type FormEvent, useState } from "react";
import { Field } from "./Field";

/** The select's value for "from the start": no step key is empty. */
const FROM_START = "";

interface Props {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** The run's steps a fork can go again from, in the order they ran. */
  stepKeys: readonly string[];
  busy: boolean;
  /** `fromStep` null: from the start. */
  onFork: (fromStep: string | null) => void;
}

export function ForkDialog({ open, onOpenChange, stepKeys, busy, onFork }: Props) {
  const [choice, setChoice] = useState(FROM_START);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!busy) onFork(choice === FROM_START ? null : choice);
  };
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title asChild>
            <h2>Fork this run</h2>
          </Dialog.Title>
          <Dialog.Description className="muted">
            A new run of the same workflow with the same args, spec and mode. The steps this run
            completed before the chosen step are reused; that step and the ones after it run again.
          </Dialog.Description>
          <form className="stack" onSubmit={submit}>
            <Field label="Run again from">
              <select
                className="select"
                value={choice}
                onChange={(event) => setChoice(event.target.value)}
              >
                <option value={FROM_START}>from the start (reuse nothing)</option>
                {stepKeys.map((key) => (
                  <option key={key} value={key}>
                    step {key}
                  </option>
                ))}
              </select>
            </Field>
            <div className="dialog-actions">
              <Dialog.Close asChild>
                <button type="button" className="button">
                  Cancel
                </button>
              </Dialog.Close>
              <button type="submit" className="button primary" disabled={busy}>
                {busy ? "Forking..." : "Fork"}
              </button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
