/** A yes/no question before something that cannot be undone (or that throws work away). */
import * as Dialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";

interface Props {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** The button that keeps things as they are. */
  cancelLabel?: string;
  /** `danger` (the default) for what deletes, `primary` for what runs work again. */
  tone?: "danger" | "primary";
  busy?: boolean;
  onConfirm: () => void;
}

export function ConfirmDialog(props: Props) {
  const { open, onOpenChange, title, children, confirmLabel, busy, onConfirm } = props;
  const { cancelLabel = "Keep it", tone = "danger" } = props;
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title asChild>
            <h2>{title}</h2>
          </Dialog.Title>
          <Dialog.Description className="muted">{children}</Dialog.Description>
          <div className="dialog-actions">
            <Dialog.Close asChild>
              <button type="button" className="button">
                {cancelLabel}
              </button>
            </Dialog.Close>
            <button type="button" className={`button ${tone}`} disabled={busy} onClick={onConfirm}>
              {busy ? "Working..." : confirmLabel}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
