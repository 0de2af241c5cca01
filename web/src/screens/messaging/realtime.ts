/**
 * The realtime channel (README, "Platform: notifications" → "Realtime"): Socket.IO on the gateway's port,
 * the handshake carrying the access token (`auth.token`, read afresh at every (re)connection). An expired
 * token (`session.expired`, or a `TOKEN_EXPIRED` refusal) is refreshed through api.ts and the socket
 * reconnects; the screen reloads its lists on every (re)connection, since events sent while it was away
 * are not replayed.
 *
 *   const live = useRealtime({ "messaging.message.created": m => …, }, () => reload());
 *   live.connected // for a status line
 */
import { io, type Socket } from "socket.io-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { accessToken, ensureFreshToken, refreshTokens } from "../../api";

export type Handlers = Record<string, (data: any) => void>;

export function useRealtime(handlers: Handlers, onConnect?: () => void): { connected: boolean } {
	const [connected, setConnected] = useState(false);
	const ref = useRef({ handlers, onConnect });
	ref.current = { handlers, onConnect };
	useEffect(() => {
		let closed = false;
		/** the token of the last handshake: what the server found expired (another call may have refreshed since) */
		let handshakeToken: string | null = null;
		const socket: Socket = io({
			transports: ["websocket"],
			auth: cb => {
				handshakeToken = accessToken();
				cb({ token: handshakeToken ?? "" });
			},
			autoConnect: false,
		});
		const reconnectFresh = async () => {
			socket.disconnect();
			// refreshes only if nobody did since that handshake (api.ts compares the stale token)
			await refreshTokens(handshakeToken ?? undefined).catch(() => undefined);
			if (!closed && accessToken()) socket.connect();
		};
		socket.on("connect", () => {
			setConnected(true);
			ref.current.onConnect?.();
		});
		socket.on("disconnect", () => setConnected(false));
		socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
			setConnected(false);
			if (err.data?.code === "TOKEN_EXPIRED") void reconnectFresh();
		});
		socket.on("session.expired", () => void reconnectFresh());
		socket.onAny((event: string, data: unknown) => ref.current.handlers[event]?.(data));
		void ensureFreshToken()
			.catch(() => undefined)
			.then(() => {
				if (!closed) socket.connect();
			});
		return () => {
			closed = true;
			socket.disconnect();
		};
	}, []);
	return { connected };
}
