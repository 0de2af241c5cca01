/**
 * The bell in the top bar ("Notifications" and a badge): the unread count, kept live by the realtime channel (`notification` adds one,
 * `notifications.unread` sets it: another tab or device read something) and read again from the API at
 * every (re)connection, since the list is the record and events sent while the socket was away are lost.
 * It owns the app's notification socket; the list screen hears it through ./live.ts.
 */
import { useEffect } from "preact/hooks";
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

export function NotificationBell({ current }: { current: boolean }) {
	const count = useUnread();
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
			title={live.connected ? label : `${label} (reconnecting…)`}
			data-connected={live.connected ? "true" : "false"}
		>
			<span class="nt-bell-label">Notifications</span>
			<span class="nt-bell-count">{shown}</span>
			{count === null ? null : <span class="sr-only">unread</span>}
		</a>
	);
}
