import { useEffect, useRef } from "react";

/** A ref whose element takes the focus once, when it appears (a result that replaces what had it). */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}
