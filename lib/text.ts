/** Small text utilities shared by services. */

/** A string matched literally inside a RegExp (a user's search term). */
export function escapeRegex(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `s` without the slashes it ends with (a base URL before a path is appended); linear, where `/\/+$/` retries every run of slashes. */
export function withoutTrailingSlashes(s: string): string {
	let end = s.length;
	while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--;
	return s.slice(0, end);
}
