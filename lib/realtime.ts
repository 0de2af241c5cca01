/**
 * Realtime messages to open sockets (README, "Platform: notifications" → "Realtime"): what services send
 * and how a message finds its sockets.
 *
 * A socket (services/gateway/realtime.service.ts) joins, from its verified access token:
 *   user:<userId>                   every socket of the user
 *   scope:<userId>:<tenantId | ->   the user's sockets whose token has this tenant scope (or none: "-")
 *   tenant:<tenantId>               every socket scoped to the tenant
 *   session:<sessionId>             to close the sockets of a session that ended
 * Clients cannot join or leave rooms.
 *
 * Any service sends with the action `realtime.toUser` / `realtime.toTenant`, or the event of the same name;
 * either way it becomes the broadcast `realtime.deliver`, which every gateway node receives and emits to
 * its own sockets only. A socket lives on one node, so a message reaches it once, whichever node it is
 * connected to (no Socket.IO adapter needed; Moleculer's transporter carries it).
 */

export const REALTIME_DELIVER = "realtime.deliver";

export interface RealtimeMessage {
	target: "user" | "tenant";
	/** the user id or the tenant id */
	id: string;
	/** target "user": only the sockets whose token has this tenant scope (null: no tenant) */
	scope?: string | null;
	event: string;
	data: unknown;
}

/** Event names a service may send (and a client listens to). */
export const EVENT_NAME = /^[a-z][\w.:-]{0,63}$/;
/** The largest `data` of one message (serialized). */
export const MAX_DATA_BYTES = 16 * 1024;

export const userRoom = (userId: string) => `user:${userId}`;
export const scopeRoom = (userId: string, tenantId: string | null) => `scope:${userId}:${tenantId ?? "-"}`;
export const tenantRoom = (tenantId: string) => `tenant:${tenantId}`;
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

/** The room a message goes to, or an error message when it is malformed. */
export function roomOf(msg: Partial<RealtimeMessage> | null | undefined): { room: string } | { error: string } {
	if (!msg || (msg.target !== "user" && msg.target !== "tenant")) return { error: "target must be user or tenant" };
	if (typeof msg.id !== "string" || !msg.id || msg.id.length > 128) return { error: "id must be a string of at most 128 characters" };
	if (typeof msg.event !== "string" || !EVENT_NAME.test(msg.event)) return { error: "event must match " + EVENT_NAME };
	let size = 0;
	try {
		size = Buffer.byteLength(JSON.stringify(msg.data ?? null));
	} catch {
		return { error: "data must be JSON" };
	}
	if (size > MAX_DATA_BYTES) return { error: `data must be at most ${MAX_DATA_BYTES} bytes as JSON` };
	if (msg.target === "tenant") return { room: tenantRoom(msg.id) };
	if (msg.scope !== undefined) {
		if (msg.scope !== null && (typeof msg.scope !== "string" || msg.scope.length > 64)) return { error: "scope must be a tenant id or null" };
		return { room: scopeRoom(msg.id, msg.scope) };
	}
	return { room: userRoom(msg.id) };
}
