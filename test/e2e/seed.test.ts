/**
 * `npm run seed` the way a newcomer runs it: as a process on a fresh DATA_DIR (the embedded platform is
 * booted for it), then `npm start` on that DATA_DIR and the demo login over the public API: the tenant,
 * posts, leads (some won, with commissions), conversations, tasks (xp, badges, a leaderboard) and invoices.
 * Then the seed again, once through the running platform (found by the DATA_DIR lock) and once embedded:
 * nothing duplicated, and it says so. A second `npm start` on the same files is refused.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../../lib/paths";
import { CONVERSATIONS, DEMO_PASSWORD, INVOICES, LEADS, OWNER, POSTS, TASKS, TENANT, USERS } from "../../scripts/seed/data";
import { freePort, startNode, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-seed-"));
// the embedded default, as on a newcomer's machine: NeDB files, no cluster
const userEnv = (extra: Record<string, string> = {}) => {
	const env: Record<string, string> = { ...(process.env as Record<string, string>), NODE_ENV: "development", DATA_DIR: dataDir, LOG_LEVEL: "warn" };
	// cheap password hashes (as the other tests use): the test runs the seed three times on a shared machine
	env.PASSWORD_SCRYPT_N = "1024";
	for (const k of ["TRANSPORTER", "CACHER", "REDIS_URL", "MONGO_URI", "DB_DRIVER", "SEED_URL"]) env[k] = "";
	return { ...env, ...extra };
};

function seed(port: number): Promise<{ code: number | null; output: string; seconds: number }> {
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "scripts", "seed.ts")], {
			cwd: projectRoot,
			env: userEnv({ PORT: String(port) }),
			stdio: "pipe",
		});
		let output = "";
		child.stdout.on("data", d => (output += d));
		child.stderr.on("data", d => (output += d));
		child.on("error", reject);
		child.on("exit", code => resolve({ code, output, seconds: (Date.now() - started) / 1000 }));
	});
}

describe("npm run seed", () => {
	let node: Proc | undefined;
	let base = "";
	let holder: net.Server | undefined;
	afterAll(() => {
		node?.kill();
		holder?.close();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	const http = async (method: string, url: string, token?: string, body?: unknown) => {
		const res = await fetch(base + url, {
			method,
			headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { "content-type": "application/json" }) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: res.status, body: (await res.json()) as any };
	};
	const login = async (email: string) => {
		const res = await http("POST", "/api/auth/login", undefined, { email, password: DEMO_PASSWORD });
		expect(res.status).toBe(200);
		return res.body;
	};

	/** What the demo owner sees, counted through the public API. */
	async function whatTheOwnerSees() {
		const session = await login(OWNER.email);
		const token = session.accessToken;
		const tenants = (await http("GET", "/api/tenants", token)).body.rows;
		const leads = (await http("GET", "/api/leads?pageSize=100", token)).body.rows;
		const wonMonth = leads.find((l: any) => l.status === "won")?.wonAt?.slice(0, 7);
		const explore = (await http("GET", "/api/posts/explore/all?limit=100", token)).body.items;
		const conversations = (await http("GET", "/api/messaging/conversations?limit=100", token)).body.items;
		let messages = 0;
		for (const c of conversations)
			messages += (await http("GET", `/api/messaging/conversations/${c.id}/messages?limit=100`, token)).body.items.length;
		const tasks = (await http("GET", "/api/tasks?limit=100", token)).body.rows;
		return {
			tenantId: session.tenantId,
			tenants: tenants.map((t: any) => [t.slug, t.role]),
			members: (await http("GET", `/api/tenants/${session.tenantId}/members?pageSize=100`, token)).body.total,
			posts: explore.length,
			postTexts: explore.map((p: any) => p.text).sort(),
			enterpriseLeadOwners: [...new Set(leads.filter((l: any) => l.value.amount >= 1_000_000).map((l: any) => l.assignedTo))],
			postsWithImages: explore.filter((p: any) => p.mediaIds.length > 0).length,
			comments: explore.reduce((n: number, p: any) => n + p.counts.comments, 0),
			likes: explore.reduce((n: number, p: any) => n + p.counts.like, 0),
			leads: leads.length,
			leadsByStatus: Object.fromEntries(
				["new", "contacted", "qualified", "won", "lost"].map(s => [s, leads.filter((l: any) => l.status === s).length]),
			),
			unassignedLeads: leads.filter((l: any) => !l.assignedTo).length,
			commissions: (await http("GET", `/api/commission/statements?period=${wonMonth}`, token)).body.totals.reduce(
				(n: number, t: any) => n + t.count,
				0,
			),
			conversations: conversations.length,
			conversationStates: conversations.map((c: any) => c.status).sort(),
			messages,
			tasks: tasks.length,
			tasksDone: tasks.filter((t: any) => t.status === "done").length,
			dependencies: tasks.reduce((n: number, t: any) => n + t.blockedBy.length, 0),
			leaderboard: (await http("GET", "/api/gamification/boards/table-tennis?top=20", token)).body.top.length,
			invoices: (await http("GET", "/api/commerce/invoices?pageSize=100", token)).body.rows.map((i: any) => i.status).sort(),
			payments: (await http("GET", "/api/commerce/payments?pageSize=100", token)).body.rows.map((p: any) => p.status).sort(),
		};
	}

	it("creates the demo data, shows it to the demo login, and creates nothing the second time", async () => {
		// The seed's PORT. Step 3 of its search seeds a Valence gateway answering there, so a port merely
		// found free could, minutes later, be another parallel test's gateway: this listener holds it and is
		// not one (it closes every connection).
		const server = (holder = net.createServer(socket => socket.destroy()));
		await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
		const seedPort = (server.address() as net.AddressInfo).port;
		const first = await seed(seedPort);
		expect(first.output).toContain("Seeding the embedded platform");
		expect({ code: first.code, output: first.output }).toMatchObject({ code: 0 });
		expect(first.output).toMatch(/Created \d+ records: 8 users, 1 tenants/);
		expect(first.output).toContain(`${OWNER.email} / ${DEMO_PASSWORD}`);
		expect(fs.existsSync(path.join(dataDir, "valence.lock"))).toBe(false); // released

		// npm start on the same DATA_DIR, and the demo owner signs in
		const port = await freePort();
		node = startNode(userEnv({ PORT: String(port) }));
		base = `http://127.0.0.1:${port}`;
		await waitFor(async () => (await fetch(`${base}/health/ready`)).status === 200, {
			what: "npm start to be ready",
			timeoutMs: 30_000,
			intervalMs: 100,
		});

		const seen = await whatTheOwnerSees();
		const publicPosts = POSTS.filter(p => (p.visibility ?? "public") === "public");
		expect(seen).toMatchObject({
			tenants: [[TENANT.slug, "owner"]],
			members: USERS.length,
			posts: publicPosts.length,
			postsWithImages: publicPosts.filter(p => p.image).length,
			leads: LEADS.length,
			leadsByStatus: Object.fromEntries(
				["new", "contacted", "qualified", "won", "lost"].map(s => [s, LEADS.filter(l => l.status === s).length]),
			),
			unassignedLeads: 0,
			commissions: LEADS.filter(l => l.status === "won").length,
			conversations: CONVERSATIONS.length,
			messages: CONVERSATIONS.reduce((n, c) => n + c.messages.length, 0),
			tasks: TASKS.length,
			tasksDone: TASKS.filter(t => t.status === "done").length,
			dependencies: TASKS.reduce((n, t) => n + (t.after?.length ?? 0), 0),
			invoices: INVOICES.map(i => i.status).sort(),
		});
		expect(seen.tenantId).toBeTruthy();
		// the texts of the data set, and the rules applied (deals of 10,000 EUR and more go to Jonas)
		expect(seen.postTexts).toEqual(publicPosts.map(p => p.text).sort());
		const jonas = await login(USERS.find(u => u.key === "jonas")!.email);
		expect(seen.enterpriseLeadOwners).toEqual([jonas.user.id]);
		expect(seen.comments).toBeGreaterThan(0);
		expect(seen.likes).toBeGreaterThan(0);
		expect(seen.conversationStates).toEqual(expect.arrayContaining(["closed", "pending", "open"]));
		expect(seen.leaderboard).toBeGreaterThanOrEqual(6);
		expect(seen.payments).toEqual(["captured", "captured", "partially_refunded"]);

		// a member who completed tasks: xp, a level and the first badge
		const noah = await login(USERS.find(u => u.key === "noah")!.email);
		const game = (await http("GET", "/api/gamification/me", noah.accessToken)).body;
		expect(game.balances.xp).toBeGreaterThan(0);
		expect(game.badges.find((b: any) => b.id === "first-task")).toMatchObject({ earned: true });

		// a second npm start on the same files is refused
		const second = startNode(userEnv({ PORT: String(await freePort()) }));
		expect(await second.exited).toBe(1);
		expect(second.output()).toContain("is in use by process");

		// the seed again while npm start runs: it goes through that platform, and creates nothing
		const again = await seed(seedPort);
		expect({ code: again.code, output: again.output }).toMatchObject({ code: 0 });
		expect(again.output).toContain(`Seeding the running platform at ${base}`);
		expect(again.output).toContain("Nothing new: the demo data was already there");
		expect(await whatTheOwnerSees()).toEqual(seen);

		// and once more on its own (embedded), after npm start stopped
		node.kill("SIGTERM");
		expect(await node.exited).toBe(0);
		const third = await seed(seedPort);
		// a failed run's output is in the failure message
		expect({ code: third.code, output: third.output }).toMatchObject({ code: 0 });
		expect(third.output).toContain("Seeding the embedded platform");
		expect(third.output).toContain("Nothing new: the demo data was already there");
		console.log(
			`seed timings: first run ${first.seconds.toFixed(1)} s, through npm start ${again.seconds.toFixed(1)} s, embedded again ${third.seconds.toFixed(1)} s`,
		);
	}, 120_000);
});
