/**
 * Who is signed in, in which tenant, with which role (README, "Tokens in one paragraph"). One store for the
 * whole app: screens read it with `useSession()` and change it only through the functions here.
 *
 *   const s = useSession();
 *   if (s.status === "signedIn" && isAdmin(s)) …
 *   await switchTenant(id); // new token pair scoped to that tenant; every screen re-renders
 */
import { useEffect, useState } from "preact/hooks";
import { clearTokens, get, hasTokens, onSignedOut, post, setTokens, type Page, type SignedOutReason, type TokenResponse } from "./api";

export interface User {
	id: string;
	name?: string;
	email?: string;
	[k: string]: unknown;
}

export interface TenantMembership {
	id: string;
	name: string;
	slug: string;
	role: "owner" | "admin" | "member";
}

export type SessionState =
	| { status: "loading" }
	| { status: "signedOut"; reason?: SignedOutReason }
	| {
			status: "signedIn";
			user: User;
			/** the tenant the current token is scoped to, or null */
			tenantId: string | null;
			/** the role(s) in that tenant (`owner`, `admin`, `member`) */
			roles: string[];
			sessionId: string;
			/** every tenant the user belongs to, with the role in each (GET /api/tenants) */
			tenants: TenantMembership[];
	  };
export type SignedIn = Extract<SessionState, { status: "signedIn" }>;

let state: SessionState = hasTokens() ? { status: "loading" } : { status: "signedOut" };
const subscribers = new Set<(s: SessionState) => void>();

function set(next: SessionState) {
	state = next;
	for (const s of subscribers) s(state);
}

export const currentSession = () => state;

/** The session, re-rendering the component when it changes. */
export function useSession(): SessionState {
	const [s, setS] = useState(state);
	useEffect(() => {
		subscribers.add(setS);
		setS(state);
		return () => void subscribers.delete(setS);
	}, []);
	return s;
}

export const isAdmin = (s: SessionState) => s.status === "signedIn" && s.roles.some(r => r === "owner" || r === "admin");
export const currentTenant = (s: SessionState) => (s.status === "signedIn" ? (s.tenants.find(t => t.id === s.tenantId) ?? null) : null);

onSignedOut(reason => set({ status: "signedOut", reason: reason ?? undefined }));

/** Reads `/api/auth/me` and the tenant list into the store (after sign-in, switch, or at start). */
export async function reloadSession(): Promise<void> {
	if (!hasTokens()) return set({ status: "signedOut" });
	try {
		const [me, tenants] = await Promise.all([
			get<{ user: User; tenantId: string | null; roles: string[]; sessionId: string }>("/api/auth/me"),
			get<Page<TenantMembership>>("/api/tenants", { pageSize: 100, sort: "name" }),
		]);
		set({ status: "signedIn", user: me.user, tenantId: me.tenantId, roles: me.roles, sessionId: me.sessionId, tenants: tenants.rows });
	} catch (err) {
		if ((err as { status?: number }).status === 401) clearTokens("session-ended");
		else if (state.status === "loading") set({ status: "signedOut", reason: "unreachable" });
		else throw err;
	}
}

async function started(t: TokenResponse) {
	setTokens(t);
	await reloadSession();
}

export async function signIn(email: string, password: string): Promise<void> {
	await started(await post<TokenResponse>("/api/auth/login", { email, password }, { auth: false }));
}

export async function register(name: string, email: string, password: string): Promise<void> {
	await started(await post<TokenResponse>("/api/auth/register", { name, email, password }, { auth: false }));
}

/** After a provider sign-in: the callback answered the same token response as a login. */
export const signedInWith = (t: TokenResponse) => started(t);

export async function signOut(): Promise<void> {
	try {
		await post("/api/auth/logout");
	} finally {
		clearTokens("signed-out");
	}
}

/** A new token pair scoped to `tenantId` (404 when not a member). */
export async function switchTenant(tenantId: string): Promise<void> {
	await started(await post<TokenResponse>("/api/auth/switch-tenant", { tenantId }));
}

/** Create an organisation (you are its owner) and switch to it. */
export async function createTenant(name: string, slug: string): Promise<void> {
	const t = await post<{ id: string }>("/api/tenants", { name, slug });
	await switchTenant(t.id);
}
