// Text PostgreSQL cannot store (NUL) or that is not Unicode at all (an unpaired surrogate) is
// refused at the door for every route, naming the field, before any rule or query sees it.

const isStorable = (s: string) => !s.includes("\u0000") && s.isWellFormed();
const pointer = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** The JSON pointer of the first string (or object key) in `value` that cannot be stored. */
export function unstorableTextAt(value: unknown): string | undefined {
  // A stack, not recursion: nesting depth is the caller's choice.
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (typeof node === "string") {
      if (!isStorable(node)) return path || "/";
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], `${path}/${i}`]);
    } else if (node !== null && typeof node === "object") {
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        if (!isStorable(key)) return `${path}/${pointer(key.replaceAll("\u0000", "\\u0000"))}`;
        stack.push([child, `${path}/${pointer(key)}`]);
      }
    }
  }
  return undefined;
}

export const UNSTORABLE_TEXT = "must not contain NUL characters or unpaired surrogates";
