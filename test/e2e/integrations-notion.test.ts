/**
 * A Notion connection mirrors the rows of its configured database as tasks (the property mapping is
 * configuration): rows become tasks once however often the sync runs, a changed row updates its task, a
 * row whose status is a done value, or that is archived or deleted, completes it; Notion's cursor pages
 * are followed and a 429's Retry-After waited out. Against the fake provider standing in for Notion
 * (its OAuth and `POST /v1/databases/{id}/query`).
 */
import { startFakeProvider, type FakeProvider } from "../helpers/fake-oauth-provider";
import { startPlatform, type Platform } from "../helpers/platform";
import { platformSchedule, runPlatformJob } from "../helpers/platform-jobs";

const row = (id: string, name: string, status: string, notes = "") => ({
	id,
	properties: {
		Task: { type: "title", title: [{ plain_text: name }] },
		Notes: { type: "rich_text", rich_text: notes ? [{ plain_text: notes }] : [] },
		Stage: { type: "status", status: { name: status } },
	},
});

describe("integrations: Notion database rows become tasks", () => {
	let p: Platform;
	let notion: FakeProvider;
	const member = (sub: string) => p.token({ sub, tid: "team-notion", roles: ["member"] });
	type TaskView = { id: string; title: string; description: string; status: string; assigneeId: string | null };
	const tasksOf = async (sub: string): Promise<TaskView[]> => {
		const res = await p.http("GET", `/api/tasks?limit=100&assigneeId=${sub}`, { token: member(sub) });
		expect(res.status).toBe(200);
		return res.body.rows;
	};
	const byTitle = async (sub: string) => Object.fromEntries((await tasksOf(sub)).map(t => [t.title, t.status]));

	/** connect → the provider's authorize → our callback, with the flow cookie of the connect */
	async function connect(sub: string): Promise<{ id: string }> {
		const start = await p.http("POST", "/api/integrations/notion/connect", { token: member(sub) });
		expect(start.status).toBe(200);
		const cookie = start.headers.get("set-cookie")!.split(";")[0];
		const back = await fetch(new URL(start.body.authorizationUrl), { redirect: "manual" });
		const cb = new URL(back.headers.get("location")!);
		const done = await p.http("GET", cb.pathname + cb.search, { headers: { cookie } });
		expect(done.status).toBe(201);
		return done.body;
	}

	beforeAll(async () => {
		notion = await startFakeProvider("oauth2");
		notion.basicClientAuth = true; // Notion's token endpoint takes the client by HTTP Basic only
		const integrations = {
			notion: {
				authorizationEndpoint: `${notion.baseUrl}/authorize`,
				tokenEndpoint: `${notion.baseUrl}/token`,
				clientId: notion.clientId,
				clientSecret: notion.clientSecret,
				apiBaseUrl: notion.baseUrl,
				notion: {
					databaseId: notion.notionDatabaseId,
					titleProperty: "Task",
					bodyProperty: "Notes",
					statusProperty: "Stage",
					doneValues: ["Shipped"],
				},
			},
		};
		p = await startPlatform({
			services: ["integrations", "tasks", "taskversions", "jobs", "scheduler"],
			env: { INTEGRATION_PROVIDERS: JSON.stringify(integrations) },
		});
	});
	afterAll(async () => {
		await p?.stop();
		await notion?.stop();
	});

	it("mirrors the rows by the configured mapping, page by page, once however often it syncs", async () => {
		const connection = await connect("no-ana");
		notion.notionRows = [
			row("r-1", "Write the brief", "In progress", "two pages"),
			row("r-2", "Book the venue", "Shipped"),
			row("r-3", "Order the badges", "Not started"),
		];
		notion.apiFailures = [{ status: 429, retryAfter: "1" }];
		const hits = notion.notionHits;
		const res = await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-ana") });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ created: 3, updated: 0, skipped: 0, closed: 0 });
		expect(notion.notionHits - hits).toBe(3); // the 429, then two pages (2 + 1 rows)
		expect(await byTitle("no-ana")).toEqual({ "Write the brief": "todo", "Book the venue": "done", "Order the badges": "todo" });
		expect((await tasksOf("no-ana")).find(t => t.title === "Write the brief")).toMatchObject({ description: "two pages", assigneeId: "no-ana" });

		const again = await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-ana") });
		expect(again.body).toEqual({ created: 0, updated: 3, skipped: 0, closed: 0 });
		expect(await tasksOf("no-ana")).toHaveLength(3);
		// someone else's connection is not theirs to sync
		expect((await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-eve") })).status).toBe(404);
	});

	it("follows a changed row, and completes the task of a row archived or deleted", async () => {
		const connection = await connect("no-ben");
		notion.notionRows = [row("b-1", "Draft", "Not started"), row("b-2", "Review", "Not started"), row("b-3", "Publish", "Not started")];
		await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-ben") });
		expect(await byTitle("no-ben")).toEqual({ Draft: "todo", Review: "todo", Publish: "todo" });

		notion.notionRows = [
			row("b-1", "Draft v2", "Shipped", "done early"),
			{ ...row("b-2", "Review", "Not started"), archived: true },
			// b-3 deleted from the database
		];
		const res = await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-ben") });
		expect(res.body).toEqual({ created: 0, updated: 1, skipped: 0, closed: 2 });
		expect(await byTitle("no-ben")).toEqual({ "Draft v2": "done", Review: "done", Publish: "done" });
		expect((await tasksOf("no-ben")).find(t => t.title === "Draft v2")?.description).toBe("done early");
		// closed once: the next sync finds nothing more to close
		expect((await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-ben") })).body).toMatchObject({ closed: 0 });
	});

	it("stays in sync without anyone asking: the integrations.sync-lists platform job, every 15 minutes", async () => {
		const schedule = await platformSchedule(p.broker, "integrations-sync-lists");
		expect(schedule).toMatchObject({ jobType: "integrations.sync-lists", cron: "*/15 * * * *" });

		const connection = await connect("no-cy");
		notion.notionRows = [row("c-1", "Plan", "Not started")];
		await p.http("POST", `/api/integrations/${connection.id}/sync`, { token: member("no-cy") });
		notion.notionRows = [row("c-1", "Plan", "Shipped"), row("c-2", "Follow up", "Not started")];
		const done = await runPlatformJob(p.broker, "integrations.sync-lists");
		expect(done).toMatchObject({ status: "completed" });
		expect(await byTitle("no-cy")).toEqual({ Plan: "done", "Follow up": "todo" });
	});
});
