/**
 * moleculer-web finds the alias of a request by trying every alias's regular expression in order,
 * a few hundred with every service routed. This index answers the same question, the first alias in
 * the same order that takes the method and matches the URL, trying only the aliases that can match:
 * those whose first two path segments are the URL's (compared without case, as path-to-regexp's
 * expressions are), plus every alias whose first two segments are not plain text (a parameter, an
 * optional group, a wildcard), which is tried for every URL. It rebuilds itself whenever the gateway's
 * alias list changes (moleculer-web replaces the array when it regenerates aliases).
 */

export interface AliasLike {
	fullPath: string;
	isMethod(method: string): boolean;
	match(url: string): false | Record<string, unknown>;
}

export interface Found<A> {
	alias: A;
	params: Record<string, unknown>;
}

/** Characters that make a path segment more than plain text for path-to-regexp 8. */
const SPECIAL = /[:*{}()[\]?+!\\]/;
const PREFIX_SEGMENTS = 2;

/** The first two segments of a URL path, lowercased: "/api/posts/42" → "api/posts". */
export function urlKey(url: string): string {
	const first = url.indexOf("/", 1);
	if (first === -1) return url.slice(1).toLowerCase();
	const second = url.indexOf("/", first + 1);
	return (second === -1 ? url.slice(1) : url.slice(1, second)).toLowerCase();
}

/** The same key for an alias's path, or null when one of those segments is not plain text. */
export function aliasKey(fullPath: string): string | null {
	const segments = fullPath.split("/").slice(1, 1 + PREFIX_SEGMENTS);
	if (segments.some(s => SPECIAL.test(s))) return null;
	return segments.join("/").toLowerCase();
}

export class AliasIndex<A extends AliasLike> {
	private source: A[] | undefined;
	private length = -1;
	private byKey = new Map<string, A[]>();
	private generic: A[] = [];

	/** What moleculer-web's resolveAlias(url, method) answers for `aliases`. */
	resolve(aliases: A[], url: string, method = "GET"): Found<A> | false {
		if (aliases !== this.source || aliases.length !== this.length) this.build(aliases);
		const candidates = this.byKey.get(urlKey(url)) ?? this.generic;
		for (let i = 0; i < candidates.length; i++) {
			const alias = candidates[i];
			if (alias.isMethod(method)) {
				const params = alias.match(url);
				if (params) return { alias, params };
			}
		}
		return false;
	}

	private build(aliases: A[]): void {
		this.source = aliases;
		this.length = aliases.length;
		const keys = aliases.map(a => aliasKey(a.fullPath));
		this.generic = aliases.filter((_, i) => keys[i] === null);
		this.byKey = new Map();
		// each key's list keeps the aliases of that key and the generic ones, in the gateway's order
		for (const key of new Set(keys))
			if (key !== null)
				this.byKey.set(
					key,
					aliases.filter((_, i) => keys[i] === key || keys[i] === null),
				);
	}
}
