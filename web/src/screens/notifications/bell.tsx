/**
 * The bell in the top bar ("Notifications" and a badge): the unread count, kept live by the realtime
 * channel (`notification` adds one, `notifications.unread` sets it: another tab or device read something)
 * and read again from the API at every (re)connection, since the list is the record and events sent while
 * the socket was away are lost. It owns the app's notification socket (messaging's `useRealtime`); the list
 * screen hears it through ./live.ts.
 *
 * The bell never keeps a session alive by itself: just before the access token expires its socket is closed
 * (an open socket would spend the refresh token at the expiry, every time, in a tab nobody looks at). It opens
 * again as soon as the token is renewed (any call of the app refreshed it) or the reader is back: a key, a
 * click, the tab focused or shown again; then the count is read again.
 */
import { useEffect, useState } from "preact/hooks";
import { accessToken } from "../../api";
import { href } from "../../router";
import { useRealtime } from "../messaging/realtime";
import {
	announceNotification,
	announceReconnect,
	noteLiveChange,
	readUnreadCount,
	setUnread,
	unreadCount,
	useUnread,
	type AppNotification,
} from "./live";

/** `exp` and `iat` of the access token in ms (only to schedule the pause: the gateway verifies tokens). */
function timesOf(token: string | null): { exp: number; iat: number } | null {
	try {
		const claims = JSON.parse(atob(token!.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { exp: number; iat?: number };
		return { exp: claims.exp * 1000, iat: (claims.iat ?? 0) * 1000 };
	} catch {
		return null;
	}
}

/** Whether the socket should be open now: false from shortly before the token's expiry until it is renewed or the reader is back. */
function useAttended(): boolean {
	/** the token the socket was closed with, or null while it is open */
	const [pausedWith, setPausedWith] = useState<string | null>(null);
	useEffect(() => {
		if (pausedWith === null) {
			const token = accessToken();
			const t = timesOf(token);
			if (!t) return;
			// the same margin as api.ts refreshes with: close before the socket would ask for a refresh
			const margin = Math.min(5_000, t.iat ? (t.exp - t.iat) / 4 : 5_000) + 250;
			const timer = setTimeout(() => setPausedWith(accessToken() ?? ""), Math.max(0, t.exp - margin - Date.now()));
			return () => clearTimeout(timer);
		}
		const resume = () => setPausedWith(null);
		const onVisible = () => document.visibilityState === "visible" && resume();
		const poll = setInterval(() => {
			if (accessToken() && accessToken() !== pausedWith) resume();
		}, 2_000);
		window.addEventListener("keydown", resume);
		window.addEventListener("pointerdown", resume);
		window.addEventListener("focus", resume);
		document.addEventListener("visibilitychange", onVisible);
		return () => {
			clearInterval(poll);
			window.removeEventListener("keydown", resume);
			window.removeEventListener("pointerdown", resume);
			window.removeEventListener("focus", resume);
			document.removeEventListener("visibilitychange", onVisible);
		};
	}, [pausedWith]);
	return pausedWith === null;
}

/** The socket itself, mounted while attended (`useRealtime` connects on mount, after making the token fresh). */
function Channel({ onConnected }: { onConnected(connected: boolean): void }) {
	const live = useRealtime(
		{
			notification: (d: { notification: AppNotification }) => {
				if (!d?.notification) return;
				noteLiveChange();
				if (!d.notification.readAt) setUnread((unreadCount() ?? 0) + 1);
				announceNotification(d.notification);
			},
			"notifications.unread": (d: { unreadCount: number }) => {
				if (typeof d?.unreadCount !== "number") return;
				noteLiveChange();
				setUnread(d.unreadCount);
			},
		},
		() => {
			readUnreadCount();
			announceReconnect();
		},
	);
	useEffect(() => onConnected(live.connected), [live.connected]);
	useEffect(() => () => onConnected(false), []);
	return null;
}

export function NotificationBell({ current }: { current: boolean }) {
	const count = useUnread();
	const attended = useAttended();
	const [connected, setConnected] = useState(false);
	useEffect(() => {
		readUnreadCount();
		return () => setUnread(null);
	}, []);
	const n = count ?? 0;
	const shown = count === null ? "…" : n > 99 ? "99+" : String(n);
	// the name is what is seen, and says what the number is: "Notifications 3 unread" (the parts are flex items)
	const label = count === null ? "Notifications" : `Notifications: ${shown} unread`;
	return (
		<a
			class={`nt-bell${n > 0 ? " nt-bell-active" : ""}`}
			href={href("/notifications")}
			aria-current={current ? "page" : undefined}
			title={connected ? label : `${label} (not live: reconnecting when you are back)`}
			data-connected={connected ? "true" : "false"}
		>
			{attended ? <Channel onConnected={setConnected} /> : null}
			<span class="nt-bell-label">Notifications</span>
			<span class="nt-bell-count">{shown}</span>
			{count === null ? null : <span class="sr-only">unread</span>}
		</a>
	);
}
