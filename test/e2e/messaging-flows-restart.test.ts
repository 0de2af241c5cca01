/**
 * A flow run waiting for the customer's reply survives a restart of the platform: the run, its
 * conversation and the app come back from the NeDB files (DB_DRIVER=nedb, a DATA_DIR of this test's own),
 * and the reply after the restart carries the run on. (A file of its own: the stores are built when the
 * service modules load.)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startFakeGraph, type FakeGraph } from "../helpers/fake-graph";
import { messengerText, signBody } from "../helpers/meta-payloads";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const SECRET = "flows-app-secret-0002";

describe("messaging flows across a restart", () => {
	let graph: FakeGraph;
	const sentTo = (psid: string) =>
		graph
			.sends()
			.filter(s => s.body.recipient?.id === psid)
			.map(s => s.body.message.text);

	beforeAll(async () => {
		graph = await startFakeGraph();
	});
	afterAll(() => graph?.close());

	it("a waiting run survives a restart of the platform (NeDB files) and goes on with the reply", async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-flows-restart-"));
		const env = { DB_DRIVER: "nedb", DATA_DIR: dataDir, GRAPH_API_URL: graph.baseUrl, GRAPH_RETRY_DELAY_MS: "20", CHANNELS_RETRY_DELAY_MS: "50" };
		let q = await startPlatform({ services: ["messaging"], env });
		try {
			const token = q.token({ sub: "owner-r", tid: "tenant-restart", roles: ["admin"] });
			const call = (qq: Platform, method: string, url: string, body?: unknown) => qq.http(method, `/api/messaging${url}`, { token, body });
			const app = (
				await call(q, "POST", "/apps", {
					name: "R",
					appId: "888",
					appSecret: SECRET,
					verifyToken: "restart-verify",
					channels: [{ kind: "messenger", pageId: "PAGE-R", accessToken: "restart-token" }],
				})
			).body;
			const flow = (
				await call(q, "POST", "/flows", {
					appId: app.id,
					name: "r",
					trigger: { type: "inbound" },
					steps: [
						{ id: "ask", type: "ask", text: "Your name?", attribute: "givenName", timeoutS: 600 },
						{ id: "bye", type: "send", text: "Thanks!" },
					],
				})
			).body;
			await call(q, "POST", `/flows/${flow.id}/publish`);
			const send = (qq: Platform, mid: string, text: string) => {
				const raw = JSON.stringify(messengerText("PAGE-R", "PSID-R", mid, text));
				return qq.http("POST", `/api/messaging/webhooks/${app.id}`, { body: raw, headers: { "x-hub-signature-256": signBody(raw, SECRET) } });
			};
			await send(q, "m_R_1", "hi");
			const conv = await waitFor(async () => (await call(q, "GET", "/conversations")).body.items[0], { what: "the conversation" });
			await waitFor(async () => (await call(q, "GET", `/flow-runs?conversationId=${conv.id}`)).body.rows[0]?.state === "waiting", {
				what: "the waiting run",
			});
			await q.stop();

			q = await startPlatform({ services: ["messaging"], env });
			expect((await send(q, "m_R_2", "Ada")).status).toBe(200);
			const run = await waitFor(
				async () => (await call(q, "GET", `/flow-runs?conversationId=${conv.id}`)).body.rows.find((r: any) => r.state === "done"),
				{ what: "the run after the restart" },
			);
			expect(run.taken).toBe(2);
			expect((await call(q, "GET", `/customers/${conv.customerId}`)).body.attributes).toEqual({ givenName: "Ada" });
			expect(sentTo("PSID-R")).toEqual(["Your name?", "Thanks!"]);
		} finally {
			await q.stop();
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	}, 60_000);
});
