/**
 * Tenant isolation, generated from the route table: the whole platform in-process behind the real
 * gateway, two real tenants (register, login, create a tenant, switch-tenant), and every route the
 * gateway has under a domain that holds tenant-scoped services (TenantDbMixin) — read from the
 * gateway's own aliases, not from a list kept here. Only the seed data is written by hand; a route
 * whose service has no seeded row fails the test, so a new route cannot slip through untested.
 *
 * 1. Lists: every GET route, as tenant B, with what moleculer-db would take as a store query
 *    (`search`, `searchFields=tenantId`, `query[$where]`, `query[title][$regex]`, `populate`,
 *    `fields`, …): never a 5xx, never a row, id, marker or tenant id of tenant A, the same answer as
 *    without them, and the plain answer afterwards is still the plain answer (nothing poisoned the cache).
 * 2. Ids: every route with an id-like parameter (`:id`, `:…Id`), as tenant B, with A's id and with a
 *    random id: the same status, code and detail. A's own call with that id must not be a 404 (so the
 *    id really is A's entity for that route), and B's answer must not be a validation or access error
 *    (so B's call really reached the lookup).
 */
import { randomUUID } from "node:crypto";
import Validator from "fastest-validator";
import type { Service } from "moleculer";
import { newId } from "../../mixins/db.mixin";
import { Collection } from "../../mixins/collection";
import { isTenantScoped } from "../../mixins/tenant.mixin";
import { serviceFiles } from "../../services/catalog";
import { messengerText, signBody } from "../helpers/meta-payloads";
import { startPlatform, type HttpResult, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "isolation-horse-42";
const validator = new Validator();

interface ActionDef {
	auth?: string;
	params?: Record<string, unknown>;
}
interface Route {
	method: string;
	path: string;
	action: string;
	service: string;
	def: ActionDef;
	pathParams: string[];
}
interface Who {
	id: string;
	tenantId: string;
	token: string;
	marker: string;
}

type Rule = Record<string, any> & { type: string };
const isRequired = (r: Rule) => !r.optional && r.default === undefined;
// Strings tried, in order, for a required string param (the first its pattern and bounds accept);
// a month is this month, where the seeded commission is.
const STRING_TRIES = ["probe", "abc", "GB", "EUR", new Date().toISOString().slice(0, 7), "+44 20 7946 0000", "p", "probe-probe-probe", "0 9 * * 1"];

/** A valid value for a required param, from its fastest-validator rule; undefined when optional. */
function sample(raw: unknown, name: string, who: Who): unknown {
	const rule = validator.normalize(Array.isArray(raw) ? { type: "multi", rules: raw } : raw) as Rule;
	if (!isRequired(rule)) return undefined;
	switch (rule.type) {
		case "string": {
			if (/userid$/i.test(name)) return who.id;
			if (Array.isArray(rule.enum)) return rule.enum[0];
			const ok = STRING_TRIES.find(
				s => (!rule.pattern || new RegExp(rule.pattern).test(s)) && s.length >= (rule.min ?? 0) && (rule.max == null || s.length <= rule.max),
			);
			if (ok === undefined) throw new Error(`no sample string for param '${name}' (pattern ${rule.pattern}): add one to STRING_TRIES`);
			return ok;
		}
		case "email":
			return `probe-${randomUUID().slice(0, 8)}@example.com`;
		case "enum":
			return rule.values[0];
		case "number": {
			const n = Math.max(rule.min ?? 1, 1);
			return rule.max != null ? Math.min(n, rule.max) : n;
		}
		case "boolean":
			return true;
		case "date":
			return new Date().toISOString();
		case "url":
			return "https://example.com/";
		case "object":
			return Object.fromEntries(
				Object.entries(rule.props ?? {})
					.map(([k, r]) => [k, sample(r, k, who)])
					.filter(([, value]) => value !== undefined),
			);
		case "array":
			return rule.min ? Array.from({ length: rule.min }, () => sample({ ...(rule.items as object), optional: false }, name, who)) : [];
		case "record":
			return {};
		case "multi":
			return sample({ ...rule.rules[0], optional: false }, name, who);
		default:
			throw new Error(`no sample for param '${name}' of type '${rule.type}': teach sample() this type`);
	}
}

/** The required params of an action that are not in its path, sampled for `who`. */
function requiredParams(route: Route, who: Who): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [name, rule] of Object.entries(route.def.params ?? {})) {
		if (name.startsWith("$$") || route.pathParams.includes(name)) continue;
		const value = sample(rule, name, who);
		if (value !== undefined) out[name] = value;
	}
	return out;
}

const qs = (params: Record<string, unknown>) =>
	Object.entries(params)
		.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === "string" ? v : JSON.stringify(v))}`)
		.join("&");

describe("tenant isolation on every tenant-scoped route (generated from the route table)", () => {
	let p: Platform;
	const tag = randomUUID().slice(0, 8);
	const period = new Date().toISOString().slice(0, 7);
	let a: Who;
	let b: Who;
	let routes: Route[];

	async function identity(name: string): Promise<Who> {
		const email = `${name}-${tag}@example.com`;
		const reg = await p.http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name } });
		expect(reg.status).toBe(201);
		const login = await p.http("POST", "/api/auth/login", { body: { email, password: PASSWORD } });
		expect(login.status).toBe(200);
		const tenant = await p.http("POST", "/api/tenants", {
			token: login.body.accessToken,
			body: { name: `Org ${name}`, slug: `org-${name}-${tag}` },
		});
		expect(tenant.status).toBe(201);
		const switched = await p.http("POST", "/api/auth/switch-tenant", { token: login.body.accessToken, body: { tenantId: tenant.body.id } });
		expect(switched.status).toBe(200);
		return { id: reg.body.user.id, tenantId: tenant.body.id, token: switched.body.accessToken, marker: `confidential-${name}-${tag}` };
	}

	/** Data in every tenant-scoped service, through the API as a user would. */
	async function seed(who: Who) {
		const call = async (method: string, path: string, body?: unknown) => {
			const res = await p.http(method, path, { token: who.token, body });
			if (res.status >= 300) throw new Error(`seeding ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body;
		};
		await call("POST", "/api/notes", { slug: `note-${tag}`, title: `${who.marker} title`, body: `${who.marker} body` });
		const lead = await call("POST", "/api/leads", {
			name: `${who.marker} lead`,
			email: `${who.marker}@example.com`,
			value: { amount: 10_000, currency: "EUR" },
		});
		await call("POST", "/api/leads", { name: `${who.marker} second lead`, company: who.marker });
		await call("POST", `/api/leads/${lead.id}/activities`, { type: "note", summary: `${who.marker} called` });
		await call("PUT", `/api/assignment/agents/${who.id}`, { capacity: 5 });
		await call("POST", "/api/assignment/rules", { name: `${who.marker} rule`, strategy: "fixed", fixedUserId: who.id, enabled: false });
		const plan = await call("POST", "/api/commission/plans", {
			name: `${who.marker} plan`,
			type: "flat",
			currency: "EUR",
			amount: 500,
			effectiveFrom: "2020-01-01",
		});
		await call("POST", `/api/commission/plans/${plan.id}/members`, { userId: who.id });
		await call("POST", `/api/leads/${lead.id}/assign`, { userId: who.id });
		for (const status of ["contacted", "qualified", "won"]) await call("PATCH", `/api/leads/${lead.id}`, { status });
		await waitFor(async () => (await call("GET", `/api/commission/statements?period=${period}`)).rows.length === 1, {
			what: `${who.marker}'s commission`,
		});
		const commission = await call("POST", "/api/commission/payouts", { userId: who.id, period });
		// commerce: a payment, a numbered invoice, a paid order (the seller's ledger), a payout and the commission paid out
		const money = async (path: string, body: unknown) => {
			const res = await p.http("POST", path, { token: who.token, body, headers: { "idempotency-key": randomUUID() } });
			if (res.status >= 300) throw new Error(`seeding POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body;
		};
		const customer = await call("POST", "/api/commerce/customers", { name: `${who.marker} customer` });
		await call("POST", "/api/commerce/payment-methods", { customerId: customer.id, provider: "sandbox", token: `pm_sandbox_${tag}` });
		await money("/api/commerce/payments", { amount: 1000, currency: "EUR", paymentMethod: "pm_sandbox_visa", description: who.marker });
		const invoice = await call("POST", "/api/commerce/invoices", {
			currency: "EUR",
			customerName: who.marker,
			lines: [{ description: who.marker, quantity: 1, unitPrice: 1000 }],
		});
		await call("POST", `/api/commerce/invoices/${invoice.id}/finalize`);
		const order = await call("POST", "/api/commerce/orders", {
			sellerId: who.id,
			currency: "EUR",
			items: [{ description: who.marker, quantity: 1, unitPrice: 2000 }],
		});
		await money(`/api/commerce/orders/${order.id}/pay`, { paymentMethod: "pm_sandbox_visa" });
		await money("/api/commerce/payouts", { ownerId: who.id, amount: 500, currency: "EUR", destination: "acct_sandbox_seed" });
		await call("POST", `/api/commission/payouts/${commission.id}/approve`);
		await money(`/api/commerce/payouts/commission/${commission.id}`, { destination: "acct_sandbox_seed" });
		await call("POST", "/api/leads/ingest-keys", { name: `${who.marker} key`, slug: `form-${who.marker}` });
		await call("PUT", "/api/notifications/templates/new-follower", {
			inApp: { title: `${who.marker} follower`, body: "{{ follower.name }} follows you." },
		});
		await call("POST", "/api/oauth/clients", { name: `${who.marker} client`, scopes: ["leads:read"] });
		await call("POST", "/api/analytics/events", { events: [{ name: "task.completed", userId: who.id, properties: { plan: who.marker } }] });
		await call("POST", "/api/analytics/dashboards", {
			name: `${who.marker} dashboard`,
			widgets: [{ type: "counter", query: { name: "task.completed" } }],
		});
		const from = new Date(Date.now() - 86_400_000).toISOString();
		// a dead job (a report job whose report does not exist fails for good) and a paused schedule
		const dead = await call("POST", "/api/jobs", { type: "analytics.report", payload: { reportId: `none-${who.marker}` } });
		await waitFor(async () => (await call("GET", `/api/jobs/${dead.id}`)).status === "dead", { what: `${who.marker}'s dead job` });
		await call("POST", "/api/schedules", {
			name: `${who.marker} schedule`,
			cron: "0 9 * * 1",
			jobType: "analytics.report",
			payload: { reportId: "none" },
			paused: true,
		});
		await call("POST", "/api/analytics/reports", {
			name: `${who.marker} report`,
			query: { name: "task.completed", from, to: new Date().toISOString(), by: "plan" },
		});
		// messaging: an app, a signed delivery (customer, conversation, message), a rejected payload, a reply
		const secret = `${who.marker}-secret`;
		const app = await call("POST", "/api/messaging/apps", {
			name: `${who.marker} app`,
			appId: "1234",
			appSecret: secret,
			verifyToken: `${who.marker}-verify`,
			channels: [{ kind: "messenger", pageId: `page-${who.marker}`, accessToken: `${who.marker}-token` }],
		});
		const flow = await call("POST", "/api/messaging/flows", {
			appId: app.id,
			name: `${who.marker} flow`,
			trigger: { type: "inbound" },
			steps: [{ id: "tag", type: "tag", tag: "greeted" }],
		});
		await call("POST", `/api/messaging/flows/${flow.id}/publish`);
		for (const raw of [
			JSON.stringify(messengerText(`page-${who.marker}`, `psid-${who.marker}`, `mid-${who.marker}`, `${who.marker} hello`)),
			"{}",
		]) {
			const res = await p.http("POST", `/api/messaging/webhooks/${app.id}`, {
				body: raw,
				headers: { "x-hub-signature-256": signBody(raw, secret) },
			});
			if (res.status !== 200) throw new Error(`seeding the messaging webhook: ${res.status}`);
		}
		const conversation = await waitFor(async () => (await call("GET", "/api/messaging/conversations")).items[0], {
			what: `${who.marker}'s conversation`,
		});
		await call("POST", `/api/messaging/customers/${conversation.customerId}/tags`, { tags: ["vip"] });
		await call("POST", `/api/messaging/conversations/${conversation.id}/messages`, { text: `${who.marker} reply` });
		await call("POST", "/api/messaging/templates", { appId: app.id, name: "greeting", text: `${who.marker} hello {{ customer.name }}` });
		// engagement: a task with two versions and a blocker, a wallet entry, a board, a skill, a challenge
		const task = await call("POST", "/api/tasks", { title: `${who.marker} task`, tags: ["probe"] });
		await call("PATCH", `/api/tasks/${task.id}`, { version: 1, description: `${who.marker} description` });
		const blocker = await call("POST", "/api/tasks", { title: `${who.marker} blocker` });
		await call("POST", `/api/tasks/${task.id}/blockers`, { taskId: blocker.id });
		await call("POST", "/api/gamification/awards", {
			userId: who.id,
			currency: "coins",
			amount: 5,
			reason: `${who.marker} award`,
			eventId: `seed-${who.marker}`,
		});
		await call("POST", "/api/gamification/boards", { key: "chess", name: `${who.marker} board` });
		await call("POST", "/api/skills", { key: "focus", name: `${who.marker} skill`, cost: { currency: "coins", amount: 1 } });
		await call("POST", "/api/challenges/generate", {});
		const team = await call("POST", "/api/teams", { name: `${who.marker} team`, members: [who.id] });
		await call("POST", `/api/teams/${team.id}/awards`, { currency: "coins", amount: 5, reason: `${who.marker} team award`, eventId: "seed" });
		await call("POST", "/api/tasks", { title: `${who.marker} team task`, teamId: team.id });
	}

	/** Stored rows of a tenant in a service (straight from its store: this is the test's view, not an API). */
	async function rowsOf(service: string, tenantId: string): Promise<Record<string, any>[]> {
		// jobs and schedules live in their engine's store (Redis, or in-process), not in a db adapter
		const engineLists: Record<string, string> = { jobs: "jobs.listJobs", scheduler: "scheduler.listSchedules" };
		if (engineLists[service]) {
			const page = (await p.broker.call(
				engineLists[service],
				{ page: 1, pageSize: 100 },
				{ meta: { user: { id: "test", tenantId, roles: ["owner"] } } },
			)) as { rows: Record<string, any>[] };
			return page.rows.map(r => ({ ...r, _id: r.id }));
		}
		const svc = p.broker.getLocalService(service) as unknown as { adapter?: { find(f: object): Promise<unknown[]> } } | undefined;
		if (!svc?.adapter) return [];
		const docs = await svc.adapter.find({ query: { tenantId } });
		return docs.map(d => {
			const doc = d as { toObject?: () => Record<string, any> };
			return typeof doc.toObject === "function" ? doc.toObject() : (d as Record<string, any>);
		});
	}

	beforeAll(async () => {
		p = await startPlatform({
			services: ["*", "sample"],
			env: { PASSWORD_SCRYPT_N: "1024", RATE_LIMIT_MAX: "100000", GRAPH_API_URL: "http://127.0.0.1:9" },
		});
		a = await identity("alpha");
		b = await identity("bravo");
		await seed(a);
		await seed(b);

		const domainOf = new Map(serviceFiles().map(f => [f.name, f.domain]));
		const services = p.broker.services as Service[];
		const tenantDomains = new Set(services.filter(isTenantScoped).map(s => domainOf.get(s.name)));
		// A service of such a domain that keeps rows per user, not per tenant (notifications, push subscriptions:
		// their own suites prove one user never reaches another's), is not a tenant-scoped route.
		// (a store of its own: moleculer-db's adapter, or a Collection such as oauthsignin's provider accounts)
		const ownsRows = (s: Service) => "adapter" in s || Object.values(s).some(v => v instanceof Collection);
		const userScoped = (s: Service | undefined) => !!s && ownsRows(s) && !isTenantScoped(s);
		const api = p.broker.getLocalService("api") as unknown as { aliases: { method: string; fullPath: string; action?: string }[] };
		routes = api.aliases
			.filter(al => al.action && al.fullPath.startsWith("/api/"))
			.map(al => {
				const [service, ...rest] = al.action!.split(".");
				const svc = services.find(s => s.name === service);
				const def = ((svc?.schema.actions ?? {}) as Record<string, ActionDef>)[rest.join(".")] ?? {};
				return {
					method: al.method.toUpperCase(),
					path: al.fullPath,
					action: al.action!,
					service,
					def,
					pathParams: [...al.fullPath.matchAll(/:(\w+)/g)].map(m => m[1]),
				};
			})
			.filter(
				r => tenantDomains.has(domainOf.get(r.service)) && r.def.auth !== "public" && !userScoped(services.find(s => s.name === r.service)),
			);
	}, 60_000);
	afterAll(() => p?.stop());

	it("finds the tenant-scoped routes in the route table", () => {
		const services = new Set(routes.map(r => r.service));
		for (const s of [
			"leads",
			"notes",
			"assignment",
			"agents",
			"commission",
			"payouts",
			"calculations",
			"intake",
			"notificationtemplates",
			"jobs",
			"scheduler",
		])
			expect(services).toContain(s);
		expect(routes.filter(r => r.method === "GET").length).toBeGreaterThan(15);
	});

	it("lists: a caller's store params never show another tenant's rows, never answer 5xx, never change the answer", async () => {
		const foreign = new Set<string>([a.marker, a.tenantId]);
		for (const service of new Set(routes.map(r => r.service))) for (const row of await rowsOf(service, a.tenantId)) foreign.add(String(row._id));
		expect(foreign.size).toBeGreaterThan(10);
		const leaks = (res: HttpResult) => {
			const text = JSON.stringify(res.body);
			return [...foreign].filter(f => text.includes(f));
		};
		// times that move between two calls by themselves (a report's generation, a job worker's heartbeat)
		const stable = (body: unknown) => JSON.stringify(body, (k, v) => (k === "generatedAt" || k === "lastHeartbeat" ? undefined : v));
		const attacks: Record<string, string>[] = [
			{ search: "confidential", searchFields: "body" },
			{ search: a.marker },
			{ search: a.tenantId, searchFields: "tenantId" },
			{ searchFields: "tenantId" },
			{ "query[$where]": "1" },
			{ "query[title][$regex]": "" },
			{ "query[tenantId]": a.tenantId },
			{ query: JSON.stringify({ tenantId: a.tenantId }) },
			{ populate: "tenantId" },
			{ fields: "tenantId" },
			{ excludeFields: "id" },
			{ tenantId: a.tenantId },
			{ sort: "tenantId" },
		];
		let checked = 0;
		for (const route of routes.filter(r => r.method === "GET")) {
			let path = route.path;
			for (const name of route.pathParams) {
				const mine = (await rowsOf(route.service, b.tenantId))[0];
				const value = name === "id" ? mine?._id : /userid$/i.test(name) ? b.id : mine?.[name];
				if (value === undefined) throw new Error(`${route.method} ${route.path}: tenant B has no row for :${name}: seed one`);
				path = path.replace(`:${name}`, encodeURIComponent(String(value)));
			}
			const base = qs(requiredParams(route, b));
			const get = (extra: Record<string, string>) =>
				p.http("GET", `${path}?${[base, qs(extra)].filter(Boolean).join("&")}`, { token: b.token });
			await p.broker.cacher?.clean();
			const plain = await get({});
			expect({ route: route.path, status: plain.status }).toEqual({ route: route.path, status: 200 });
			for (const attack of attacks) {
				// a cold cache, so the attack reaches the handler; then the plain call, which may be
				// served from whatever the attack left in the cache
				await p.broker.cacher?.clean();
				const res = await get(attack);
				const where = `${route.method} ${route.path} ${qs(attack)}`;
				expect({ where, status: res.status < 500, leaks: leaks(res) }).toEqual({ where, status: true, leaks: [] });
				if (res.status === 200) expect({ where, body: stable(res.body) }).toEqual({ where, body: stable(plain.body) });
				const after = await get({});
				expect({ where, afterwards: stable(after.body) }).toEqual({ where, afterwards: stable(plain.body) });
				checked++;
			}
		}
		expect(checked).toBeGreaterThan(150);
	}, 120_000);

	it("ids: another tenant's id answers exactly like a random one on every route with an id", async () => {
		const idRoutes = routes.filter(r => r.pathParams.some(n => n === "id" || /Id$/.test(n)));
		// writes and reads first, deletions last (the deepest path first: members before their plan)
		const ordered = [
			...idRoutes.filter(r => r.method !== "DELETE"),
			...idRoutes.filter(r => r.method === "DELETE").sort((x, y) => y.path.split("/").length - x.path.split("/").length),
		];
		expect(ordered.length).toBeGreaterThan(15);
		const summary = (res: HttpResult, value: string) => ({
			status: res.status,
			code: res.body?.code,
			detail: typeof res.body?.detail === "string" ? res.body.detail.split(value).join("<id>") : undefined,
		});
		for (const route of ordered) {
			const rowsA = await rowsOf(route.service, a.tenantId);
			const entityParam = route.pathParams.includes("id")
				? "id"
				: route.pathParams.find(n => /Id$/.test(n) && rowsA.some(r => r[n] !== undefined));
			if (!entityParam) throw new Error(`${route.method} ${route.path}: no row of tenant A has ${route.pathParams.join(", ")}: seed one`);
			const candidates = [...new Set(rowsA.map(r => String(entityParam === "id" ? r._id : r[entityParam])).filter(v => v !== "undefined"))];
			if (!candidates.length) throw new Error(`${route.method} ${route.path}: tenant A has no ${route.service} row: seed one`);
			const request = (who: Who, value: string) => {
				let path = route.path.replace(`:${entityParam}`, encodeURIComponent(value));
				for (const other of route.pathParams.filter(n => n !== entityParam))
					path = path.replace(`:${other}`, /userid$/i.test(other) ? who.id : "probe");
				const params = requiredParams(route, who);
				// a fresh Idempotency-Key, for the routes that require one (commerce): the lookup is what is tested
				return route.method === "GET" || route.method === "DELETE"
					? p.http(route.method, Object.keys(params).length ? `${path}?${qs(params)}` : path, { token: who.token })
					: p.http(route.method, path, { token: who.token, body: params, headers: { "idempotency-key": randomUUID() } });
			};
			let reached = false;
			for (const value of candidates) {
				const random = newId();
				const withTheirs = await request(b, value);
				const withRandom = await request(b, random);
				const where = `${route.method} ${route.path} (:${entityParam})`;
				expect({ where, answer: summary(withTheirs, value) }).toEqual({ where, answer: summary(withRandom, random) });
				expect({ where, reachedTheLookup: ![400, 401, 403, 415, 422].includes(withRandom.status) && withRandom.status < 500 }).toEqual({
					where,
					reachedTheLookup: true,
				});
				const own = await request(a, value);
				if (own.status !== 404) {
					reached = true;
					break;
				}
			}
			expect({ route: `${route.method} ${route.path}`, reached }).toEqual({ route: `${route.method} ${route.path}`, reached: true });
		}
	}, 120_000);
});
