/** A step's menu: Retry from here (disabled, saying why, when the run cannot be retried now). */
import * as Menu from "@radix-ui/react-dropdown-menu";
import { MoreHorizontal, RotateCcw } from "lucide-react";

interface Props {
  stepKey: string;
  /** Why the run cannot be retried now, or null when it can. */
  blocked: string | null;
  onRetry: (stepKey: string) => void;
}

export function StepMenu({ stepKey, blocked, onRetry }: Props) {
  return (
    <Menu.Root>
      <Menu.Trigger asChild>
        <button
          type="button"
          className="button ghost small step-menu-trigger"
          aria-label={`Step ${stepKey} menu`}
          data-testid={`step-menu-${stepKey}`}
        >
          <MoreHorizontal size={14} aria-hidden />
        </button>
      </Menu.Trigger>
      <Menu.Portal>
        <Menu.Content className="menu" align="end" sideOffset={4}>
          <Menu.Item
            className="menu-item"
            disabled={blocked !== null}
            onSelect={() => onRetry(stepKey)}
            data-testid="retry-from-step"
          >
            <RotateCcw size={14} aria-hidden />
            Retry from here
            {blocked !== null && (
              <>
                {" "}
                <span className="menu-note">— {blocked}</span>
              </>
            )}
          </Menu.Item>
        </Menu.Content>
      </Menu.Portal>
    </Menu.Root>
  );
}
