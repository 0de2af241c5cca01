/**
 * Realtime delivery over Socket.IO on the gateway's own HTTP port (README, "Platform: notifications" →
 * "Realtime"). Runs on every gateway node (it is part of the gateway domain) and attaches to the local
 * `api` service's HTTP server; the gateway itself is not changed.
 *
 * - Handshake: the access token in `auth.token` (or an `Authorization: Bearer` header), verified exactly as
 *   a REST call is: the gateway's own TokenVerifier (RS256, iss/aud/exp/typ/sid, JWKS) and its revocation
 *   list. No token, an invalid, expired or revoked one: the connection is refused (`connect_error` with
 *   `data.code`). Connection attempts count against the gateway's rate limit per client address.
 * - A socket joins rooms for its user, its token's tenant, and its session (lib/realtime.ts); a client
 *   cannot join any room itself (`join` is answered FORBIDDEN). It is closed when its token expires
 *   (`session.expired` first) or its session is revoked (`session.revoked`: at once on the `auth.revoked`
 *   broadcast, else when the gateway's list has it, checked every REVOCATION_SYNC_S); the client reconnects with a
 *   fresh token and catches up from `GET /api/notifications?after=<newest id it has>`.
 * - Services send with the actions or events `realtime.toUser` / `realtime.toTenant`; both become the
 *   broadcast `realtime.deliver`, which each gateway node emits to its own sockets only.
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import jwt from "jsonwebtoken";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { Server, type Socket } from "socket.io";
import type { AuthUser } from "../../lib/access";
import { UnauthorizedError } from "../../lib/access";
import { config, splitList } from "../../lib/config";
import { InvalidInputError } from "../../lib/errors";
import type { TokenVerifier } from "../../lib/jwt";
import type { RateLimiter } from "../../lib/rate-limit";
import { REALTIME_DELIVER, roomOf, scopeRoom, sessionRoom, tenantRoom, userRoom, type RealtimeMessage } from "../../lib/realtime";
import { REVOKED_EVENT, type RevocationEntry } from "../../lib/revocations";

/** What this service uses of the local gateway (services/gateway/api.service.ts). */
type Gateway = Service & {
	server: HttpServer;
	verifier: TokenVerifier;
	limiter: RateLimiter;
	tokenRevoked(user: { id: string; sessionId?: string }): boolean;
	clientKey(req: IncomingMessage): string;
};

type SocketData = { user: AuthUser; expiresAt: number };
type RtSocket = Socket<Record<string, never>, Record<string, (...args: any[]) => void>, Record<string, never>, SocketData>;

const MAX_TIMER_MS = 2 ** 31 - 1;

interface RealtimeVars {
	io?: Server;
	api?: Gateway;
	expiry: Map<string, NodeJS.Timeout>;
	recheck?: NodeJS.Timeout;
}
interface RealtimeMethods {
	authenticate(socket: RtSocket): Promise<SocketData>;
	deliverLocal(message: RealtimeMessage): boolean;
	fanOut(message: RealtimeMessage): Promise<void>;
	onConnection(socket: RtSocket): void;
}

const refusal = (err: unknown) => {
	const e = err as { message?: string; type?: string; code?: number };
	const out = new Error(e.message ?? "Unauthorized") as Error & { data: { status: number; code: string } };
	out.data = { status: typeof e.code === "number" ? e.code : 401, code: typeof e.type === "string" ? e.type : "UNAUTHORIZED" };
	return out;
};

const messageParams = {
	event: { type: "string", max: 64, pattern: /^[a-z][\w.:-]{0,63}$/ },
	data: { type: "any", optional: true },
} as const;

const RealtimeService: ServiceSchema<ServiceSettingSchema, RealtimeMethods, RealtimeVars> = {
	name: "realtime",

	actions: {
		toUser: {
			visibility: "public",
			idempotent: false,
			summary: "Send an event to a user's open sockets on every gateway node (`scope`: only those of one tenant scope).",
			params: {
				$$strict: true,
				userId: { type: "string", min: 1, max: 128 },
				scope: { type: "string", max: 64, optional: true, nullable: true },
				...messageParams,
			},
			handler(ctx: Context<{ userId: string; scope?: string | null; event: string; data?: unknown }>) {
				const { userId, scope, event, data } = ctx.params;
				return this.fanOut({ target: "user", id: userId, ...(scope !== undefined && { scope }), event, data: data ?? null });
			},
		},
		toTenant: {
			visibility: "public",
			idempotent: false,
			summary: "Send an event to every open socket scoped to a tenant, on every gateway node.",
			params: { $$strict: true, tenantId: { type: "string", min: 1, max: 64 }, ...messageParams },
			handler(ctx: Context<{ tenantId: string; event: string; data?: unknown }>) {
				const { tenantId, event, data } = ctx.params;
				return this.fanOut({ target: "tenant", id: tenantId, event, data: data ?? null });
			},
		},
		stats: {
			visibility: "public",
			idempotent: true,
			summary: "Sockets open on this node, and how many users they belong to.",
			params: { $$strict: true },
			handler() {
				const rooms = this.io?.of("/").adapter.rooms;
				let users = 0;
				for (const name of rooms?.keys() ?? []) if (name.startsWith("user:")) users++;
				return { sockets: this.io?.of("/").sockets.size ?? 0, users };
			},
		},
	},

	events: {
		[REALTIME_DELIVER](ctx: Context<RealtimeMessage>) {
			this.deliverLocal(ctx.params);
		},
		// Services may also emit these: an `emit` reaches one gateway node, which broadcasts it to all; a broadcast is delivered here.
		"realtime.toUser"(ctx: Context<{ userId: string; scope?: string | null; event: string; data?: unknown }>) {
			const p = ctx.params ?? ({} as { userId: string; event: string });
			const message: RealtimeMessage = {
				target: "user",
				id: p.userId,
				...(p.scope !== undefined && { scope: p.scope }),
				event: p.event,
				data: p.data ?? null,
			};
			if (ctx.eventType === "emit")
				return this.fanOut(message).catch(err => this.logger.warn("realtime.toUser dropped", { error: (err as Error).message }));
			this.deliverLocal(message);
		},
		"realtime.toTenant"(ctx: Context<{ tenantId: string; event: string; data?: unknown }>) {
			const p = ctx.params ?? ({} as { tenantId: string; event: string });
			const message: RealtimeMessage = { target: "tenant", id: p.tenantId, event: p.event, data: p.data ?? null };
			if (ctx.eventType === "emit")
				return this.fanOut(message).catch(err => this.logger.warn("realtime.toTenant dropped", { error: (err as Error).message }));
			this.deliverLocal(message);
		},
		// A session that ended, or a deleted user: their sockets close at once (the gateway refuses their tokens too).
		[REVOKED_EVENT](ctx: Context<{ entries?: RevocationEntry[] }>) {
			if (!this.io) return;
			for (const e of Array.isArray(ctx.params?.entries) ? ctx.params.entries : []) {
				if (typeof e?.id !== "string") continue;
				const room = e.kind === "session" ? sessionRoom(e.id) : e.kind === "user" ? userRoom(e.id) : null;
				if (!room) continue;
				this.io.local.to(room).emit("session.revoked", {});
				this.io.local.in(room).disconnectSockets(true);
			}
		},
	},

	methods: {
		async fanOut(message: RealtimeMessage) {
			const where = roomOf(message);
			if ("error" in where) throw new InvalidInputError("The realtime message is not valid.", [{ field: "message", message: where.error }]);
			await this.broker.broadcast(REALTIME_DELIVER, message);
		},

		deliverLocal(message: RealtimeMessage) {
			if (!this.io) return false;
			const where = roomOf(message);
			if ("error" in where) {
				this.logger.warn("realtime message dropped", { error: where.error });
				return false;
			}
			this.io.local.to(where.room).emit(message.event, message.data);
			return true;
		},

		async authenticate(socket: RtSocket) {
			const api = this.api!;
			const auth = socket.handshake.auth as { token?: unknown } | undefined;
			const header = socket.handshake.headers.authorization;
			const token =
				typeof auth?.token === "string" ? auth.token : typeof header === "string" && /^bearer /i.test(header) ? header.slice(7).trim() : "";
			if (!token || token.length > 8192) throw new UnauthorizedError("An access token is required (auth: { token }).");
			const user = await api.verifier.verify(token);
			if (api.tokenRevoked(user)) throw new UnauthorizedError("The session of this access token has ended. Sign in again.", "TOKEN_REVOKED");
			const exp = (jwt.decode(token) as { exp?: number } | null)?.exp;
			return { user, expiresAt: typeof exp === "number" ? exp * 1000 : Date.now() + config().JWT_ACCESS_TTL_S * 1000 };
		},

		onConnection(socket: RtSocket) {
			const { user, expiresAt } = socket.data;
			void socket.join([
				userRoom(user.id),
				scopeRoom(user.id, user.tenantId),
				...(user.tenantId ? [tenantRoom(user.tenantId)] : []),
				...(user.sessionId ? [sessionRoom(user.sessionId)] : []),
			]);
			const timer = setTimeout(
				() => {
					socket.emit("session.expired", {});
					socket.disconnect(true);
				},
				Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS),
			);
			timer.unref();
			this.expiry.set(socket.id, timer);
			socket.on("disconnect", () => {
				clearTimeout(this.expiry.get(socket.id));
				this.expiry.delete(socket.id);
			});
			// Rooms are the server's: a client asking to join one (another user's, say) is refused.
			socket.on("join", (...args: unknown[]) => {
				const ack = args[args.length - 1];
				if (typeof ack === "function") ack({ ok: false, code: "FORBIDDEN", message: "Rooms are chosen by the server from your token." });
			});
			socket.emit("ready", { userId: user.id, tenantId: user.tenantId });
		},
	},

	created() {
		this.expiry = new Map();
	},

	started() {
		const api = this.broker.getLocalService("api") as Gateway | undefined;
		if (!api?.server) {
			this.logger.warn("no gateway on this node: realtime sockets are not served here");
			return;
		}
		this.api = api;
		const cfg = config();
		const origins = splitList(cfg.CORS_ORIGINS);
		const rule = { max: cfg.RATE_LIMIT_MAX, windowSec: cfg.RATE_LIMIT_WINDOW_S };
		const io = new Server(api.server, {
			path: "/socket.io",
			serveClient: false,
			maxHttpBufferSize: 16 * 1024,
			pingInterval: 25_000,
			pingTimeout: 20_000,
			connectTimeout: 10_000,
			...(origins.length && { cors: { origin: origins.includes("*") ? "*" : origins, credentials: !origins.includes("*") } }),
			// A new connection counts against the gateway's limit for its address (shared through Redis when configured).
			allowRequest: (req, done) => {
				api.limiter
					.consume("realtime.connect", rule, `ip:${api.clientKey(req)}`)
					.then(d => done(d.allowed ? null : "Too many connections", d.allowed))
					.catch(() => done(null, true));
			},
		});
		io.use((socket, next) => {
			if (!this.broker.started) return next(refusal({ message: "This node is still starting.", code: 503, type: "SERVICE_STARTING" }));
			this.authenticate(socket as RtSocket)
				.then(data => {
					socket.data = data;
					next();
				})
				.catch(err => next(refusal(err)));
		});
		io.on("connection", socket => this.onConnection(socket as RtSocket));
		this.io = io;
		// A revocation whose broadcast this node missed reaches the gateway's list at its next resync: check the
		// open sockets against the list as often (two map lookups per socket).
		this.recheck = setInterval(() => {
			for (const socket of io.of("/").sockets.values()) {
				const user = (socket.data as SocketData | undefined)?.user;
				if (user && api.tokenRevoked(user)) {
					socket.emit("session.revoked", {});
					socket.disconnect(true);
				}
			}
		}, cfg.REVOCATION_SYNC_S * 1000);
		this.recheck.unref();
	},

	stopped() {
		clearInterval(this.recheck);
		for (const timer of this.expiry.values()) clearTimeout(timer);
		this.expiry.clear();
		if (!this.io) return;
		// Not io.close(): that would close the gateway's HTTP server, which the gateway closes itself.
		this.io.local.disconnectSockets(true);
		this.io.engine.close();
		this.io = undefined;
	},
};

export default RealtimeService;
