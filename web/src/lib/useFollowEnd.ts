/** A scrolling box that follows its end as content arrives, while the reader is at the end. */
import { useEffect, useRef } from "react";

const FOLLOW_SLACK_PX = 24;

export function useFollowEnd(content: readonly unknown[]) {
  const ref = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  useEffect(() => {
    const element = ref.current;
    if (element && following.current && content.length > 0)
      element.scrollTop = element.scrollHeight;
  }, [content]);

  const onScroll = () => {
    const element = ref.current;
    if (!element) return;
    following.current =
      element.scrollHeight - element.scrollTop - element.clientHeight < FOLLOW_SLACK_PX;
  };

  return { ref, onScroll };
}
