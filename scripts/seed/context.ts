/** What every step of the seed shares: the API, who is signed in, the tenant, progress and the tally. */
import type { Api } from "./client";
import type { Progress, Tally } from "./progress";

export interface Account {
	id: string;
	email: string;
	/** an access token scoped to the demo tenant (once it exists) */
	token: string;
}

export interface SeedContext {
	api: Api;
	progress: Progress;
	tally: Tally;
	users: Map<string, Account>;
	tenantId: string;
	/** lead email → lead id, from the CRM step */
	leads: Map<string, string>;
}

export function user(ctx: SeedContext, key: string): Account {
	const a = ctx.users.get(key);
	if (!a) throw new Error(`no demo user '${key}'`);
	return a;
}

/** Every row of a paged list (`{ rows, total }` or `{ items, total }`), 100 at a time. */
export async function allPages<T = any>(ctx: SeedContext, path: string, token: string): Promise<T[]> {
	const out: T[] = [];
	const sep = path.includes("?") ? "&" : "?";
	for (let page = 1; page < 1000; page++) {
		const body = await ctx.api.get(`${path}${sep}page=${page}&pageSize=100`, token);
		const rows = (body.rows ?? body.items ?? []) as T[];
		out.push(...rows);
		if (rows.length < 100 || out.length >= (body.total ?? 0)) return out;
	}
	return out;
}
