/**
 * Meta's Graph API in the test process (HTTP on 127.0.0.1), for the messaging domain: user profiles
 * (`GET /<psid or igsid>?fields=…`), the Send API (`POST /<page or IG user id>/messages`) and the WhatsApp
 * Cloud API send (`POST /<phone number id>/messages`), answered with Meta's shapes. It checks the bearer
 * token against the ones it was told, records every request, and can be scripted to misbehave: 5xx,
 * Meta's rate-limit errors, a refusal, no answer at all (a timeout), or a send taken whose answer is
 * lost (`lost`: Meta delivers it, the caller never hears).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface GraphCall {
	method: string;
	path: string;
	query: Record<string, string>;
	token: string | null;
	body: any;
}

export type Fault = "500" | "503" | "ratelimit" | "timeout" | "reject" | "lost";

export interface FakeGraph {
	baseUrl: string;
	calls: GraphCall[];
	/** profiles by user id (PSID / IGSID) */
	profiles: Map<string, Record<string, string>>;
	/** tokens the fake accepts (none given: any) */
	tokens: Set<string>;
	/** the next `times` requests (to paths matching `match`, default every path) fail with `fault` */
	fail(fault: Fault, times: number, match?: RegExp): void;
	/** every send request that reached the fake (including ones that failed) */
	sends(): GraphCall[];
	/** the sends Meta took, with the message id it gave each: what the customer received */
	taken: { id: string; call: GraphCall }[];
	close(): Promise<void>;
}

const metaError = (message: string, code: number, type = "OAuthException") => ({ error: { message, type, code, fbtrace_id: "FAKE" } });

export async function startFakeGraph(): Promise<FakeGraph> {
	const calls: GraphCall[] = [];
	const profiles = new Map<string, Record<string, string>>();
	const tokens = new Set<string>();
	const faults: { fault: Fault; left: number; match: RegExp }[] = [];
	const hanging = new Set<http.ServerResponse>();
	const taken: { id: string; call: GraphCall }[] = [];
	let sent = 0;

	const server = http.createServer((req, res) => {
		let raw = "";
		req.on("data", d => (raw += d));
		req.on("end", () => {
			const url = new URL(req.url ?? "/", "http://fake");
			const auth = req.headers.authorization;
			const call: GraphCall = {
				method: req.method ?? "GET",
				path: url.pathname,
				query: Object.fromEntries(url.searchParams),
				token: auth?.startsWith("Bearer ") ? auth.slice(7) : null,
				body: raw ? JSON.parse(raw) : null,
			};
			calls.push(call);
			const answer = (status: number, body: unknown) => {
				res.writeHead(status, { "content-type": "application/json" });
				res.end(JSON.stringify(body));
			};
			const parts = url.pathname.split("/").filter(Boolean);
			const isSend = req.method === "POST" && parts.length === 2 && parts[1] === "messages";
			const f = faults.find(x => x.left > 0 && x.match.test(call.path));
			if (f?.fault === "lost" && isSend) {
				f.left--;
				sent++;
				taken.push({ id: call.body?.messaging_product === "whatsapp" ? `wamid.OUT${sent}` : `m_OUT${sent}`, call });
				return void hanging.add(res);
			}
			if (f && f.fault !== "lost") {
				f.left--;
				if (f.fault === "timeout") return void hanging.add(res);
				if (f.fault === "500") return answer(500, metaError("An unexpected error has occurred.", 2, "OAuthException"));
				if (f.fault === "503") return answer(503, metaError("Service temporarily unavailable", 2));
				if (f.fault === "ratelimit") return answer(400, metaError("(#4) Application request limit reached", 4));
				return answer(400, metaError("(#100) The parameter recipient is invalid", 100));
			}
			if (tokens.size && (!call.token || !tokens.has(call.token))) return answer(401, metaError("Invalid OAuth access token.", 190));
			if (isSend) {
				sent++;
				if (call.body?.messaging_product === "whatsapp") {
					taken.push({ id: `wamid.OUT${sent}`, call });
					return answer(200, {
						messaging_product: "whatsapp",
						contacts: [{ input: call.body.to, wa_id: call.body.to }],
						messages: [{ id: `wamid.OUT${sent}` }],
					});
				}
				taken.push({ id: `m_OUT${sent}`, call });
				return answer(200, { recipient_id: call.body?.recipient?.id, message_id: `m_OUT${sent}` });
			}
			if (req.method === "GET" && parts.length === 1) {
				const p = profiles.get(parts[0]);
				if (!p)
					return answer(
						400,
						metaError(`(#100) Unsupported get request. Object with ID '${parts[0]}' does not exist`, 100, "GraphMethodException"),
					);
				const fields = (call.query.fields ?? "").split(",");
				return answer(200, { id: parts[0], ...Object.fromEntries(Object.entries(p).filter(([k]) => fields.includes(k))) });
			}
			answer(404, metaError("Unknown path components", 2500));
		});
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		baseUrl: `http://127.0.0.1:${port}`,
		calls,
		profiles,
		tokens,
		fail(fault, times, match = /./) {
			faults.push({ fault, left: times, match });
		},
		sends: () => calls.filter(c => c.method === "POST" && c.path.endsWith("/messages")),
		taken,
		async close() {
			for (const res of hanging) res.destroy();
			server.closeAllConnections();
			await new Promise<void>(resolve => server.close(() => resolve()));
		},
	};
}
