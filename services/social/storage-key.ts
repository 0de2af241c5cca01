/** Media storage keys (`<id>/<file>`), checked the same way by every backend: no `..`, no other characters. */
const KEY = /^[\w-]+(\/[\w.-]+)*$/;

export function checkKey(key: string): string {
	if (!KEY.test(key) || key.includes("..")) throw new Error(`invalid storage key '${key}'`);
	return key;
}
