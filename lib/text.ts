/** Small text utilities shared by services. */

/** A string matched literally inside a RegExp (a user's search term). */
export function escapeRegex(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
