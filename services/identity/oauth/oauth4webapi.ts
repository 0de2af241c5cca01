/**
 * oauth4webapi, loaded once. It is ESM only: Node (20.19 and later) loads it with `require`, but jest's
 * CommonJS loader (ts-jest) cannot, nor can it run `import()` without --experimental-vm-modules. So it is
 * required through Node's own loader (`process.getBuiltinModule("module").createRequire`), the same
 * module in production and in tests; nothing else in the codebase imports it directly.
 */
import type * as OAuth from "oauth4webapi";

export type { OAuth };
let loaded: typeof OAuth | undefined;

export function oauth4webapi(): typeof OAuth {
	return (loaded ??= process.getBuiltinModule("module").createRequire(__filename)("oauth4webapi") as typeof OAuth);
}
