/** Identity: the demo accounts (register, or sign in when they exist), profiles, the tenant and its members. */
import { SeedError } from "./client";
import { allPages, type Account, type SeedContext } from "./context";
import { DEMO_PASSWORD, OWNER, TENANT, USERS } from "./data";

export const identityUnits = () => USERS.length * 2 + 1;

async function signIn(ctx: SeedContext, email: string, name: string): Promise<{ id: string; token: string; created: boolean }> {
	const reg = await ctx.api.call("POST", "/api/auth/register", { body: { email, password: DEMO_PASSWORD, name }, ok: [409] });
	if (reg.status === 201) return { id: reg.body.user.id, token: reg.body.accessToken, created: true };
	const login = await ctx.api.call("POST", "/api/auth/login", { body: { email, password: DEMO_PASSWORD }, ok: [401] });
	if (login.status === 401)
		throw new SeedError(
			`${email} has an account whose password is not the demo password: this DATA_DIR holds other data than the demo's. Use a fresh DATA_DIR.`,
		);
	return { id: login.body.user.id, token: login.body.accessToken, created: false };
}

export async function seedIdentity(ctx: SeedContext): Promise<void> {
	const { api, progress, tally } = ctx;
	progress.begin("identity: accounts");
	const plain = new Map<string, Account>();
	// all at once: password hashing is the slow part, and the auth node runs two hashes at a time (queues the rest)
	await Promise.all(
		USERS.map(async u => {
			const s = await signIn(ctx, u.email, u.name);
			tally.add("users", s.created);
			plain.set(u.key, { id: s.id, email: u.email, token: s.token });
			const profile = await api.get("/api/users/me", s.token);
			if (profile.bio !== u.bio || profile.location !== u.location)
				await api.put("/api/users/profile", s.token, { bio: u.bio, location: u.location });
			progress.tick();
		}),
	);

	progress.begin("identity: tenant");
	const owner = plain.get(OWNER.key)!;
	const made = await api.call("POST", "/api/tenants", { token: owner.token, body: TENANT, ok: [409] });
	let tenantId: string;
	if (made.status === 201) tenantId = made.body.id;
	else {
		const mine = await allPages<{ id: string; slug: string }>(ctx, "/api/tenants", owner.token);
		const found = mine.find(t => t.slug === TENANT.slug);
		if (!found) throw new SeedError(`the tenant slug '${TENANT.slug}' belongs to someone else on this platform: use a fresh DATA_DIR`);
		tenantId = found.id;
	}
	tally.add("tenants", made.status === 201);
	ctx.tenantId = tenantId;
	progress.tick();

	progress.begin("identity: members");
	const ownerToken = (await api.post("/api/auth/switch-tenant", owner.token, { tenantId })).accessToken as string;
	const members = await allPages<{ userId: string; role: string }>(ctx, `/api/tenants/${tenantId}/members`, ownerToken);
	for (const u of USERS) {
		const a = plain.get(u.key)!;
		if (u.key !== OWNER.key) {
			const member = members.find(m => m.userId === a.id);
			if (!member) {
				// the consent path every member takes: an invitation, accepted by the invitee
				await api.post(`/api/tenants/${tenantId}/invitations`, ownerToken, { email: u.email, role: u.role });
				const mine = await api.get("/api/tenants/invitations", a.token);
				const inv = (mine.rows as { id: string; tenantId: string }[]).find(i => i.tenantId === tenantId);
				if (!inv) throw new SeedError(`the invitation of ${u.email} did not arrive`);
				await api.post(`/api/tenants/invitations/${inv.id}/accept`, a.token);
			} else if (member.role !== u.role) await api.patch(`/api/tenants/${tenantId}/members/${a.id}`, ownerToken, { role: u.role });
			tally.add("memberships", !member);
		}
		const token = u.key === OWNER.key ? ownerToken : ((await api.post("/api/auth/switch-tenant", a.token, { tenantId })).accessToken as string);
		ctx.users.set(u.key, { ...a, token });
		progress.tick();
	}
}
