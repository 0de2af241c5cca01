/**
 * The notification center's live state, shared by the bell in the top bar and the list screen: one socket
 * (the bell's, through messaging's `useRealtime`), the unread count, and the notifications that arrive on it.
 *
 *   const unread = useUnread();             // number, or null before the first answer
 *   useEffect(() => onNotification(n => …), []); // a new one, live
 *   useEffect(() => onReconnect(() => …), []);   // the socket (re)connected: catch up from the list
 */
import { useEffect, useState } from "preact/hooks";
import { get } from "../../api";

/** A notification as `/api/notifications` answers it (README, "Platform: notifications"). */
export interface AppNotification {
	id: string;
	tenantId: string | null;
	userId: string;
	category: string;
	template: string;
	title: string;
	body: string;
	link: string | null;
	data?: unknown;
	readAt: string | null;
	createdAt: string;
}

let unread: number | null = null;
const countListeners = new Set<(n: number | null) => void>();
const arrivals = new Set<(n: AppNotification) => void>();
const reconnects = new Set<() => void>();

export const unreadCount = () => unread;

export function setUnread(n: number | null): void {
	unread = n === null ? null : Math.max(0, n);
	for (const l of countListeners) l(unread);
}

/** Live changes seen so far: an answer asked for before one of them is stale (it would undo it), so ask again. */
let liveChanges = 0;

export function readUnreadCount(tries = 3): void {
	const seen = liveChanges;
	get<{ unreadCount: number }>("/api/notifications/unread-count").then(
		r => {
			if (seen === liveChanges) setUnread(r.unreadCount);
			else if (tries > 1) readUnreadCount(tries - 1);
		},
		() => undefined,
	);
}

/** A live event changed the count (the bell calls it). */
export function noteLiveChange(): void {
	liveChanges++;
}

/** The unread count, re-rendering the component when it changes. */
export function useUnread(): number | null {
	const [n, setN] = useState(unread);
	useEffect(() => {
		countListeners.add(setN);
		setN(unread);
		return () => void countListeners.delete(setN);
	}, []);
	return n;
}

export function onNotification(fn: (n: AppNotification) => void): () => void {
	arrivals.add(fn);
	return () => void arrivals.delete(fn);
}

export function onReconnect(fn: () => void): () => void {
	reconnects.add(fn);
	return () => void reconnects.delete(fn);
}

export function announceNotification(n: AppNotification): void {
	for (const fn of arrivals) fn(n);
}

export function announceReconnect(): void {
	for (const fn of reconnects) fn();
}

/** Plain words for the platform's categories (README, "Preferences"); an unknown one as it is. */
export const CATEGORY_LABELS: Record<string, string> = {
	security: "Security",
	follows: "New followers",
	comments: "Comments",
	mentions: "Mentions",
	assignments: "Assignments",
	invitations: "Invitations",
	likes: "Likes",
	updates: "Updates",
	marketing: "News and offers",
};

export const categoryLabel = (c: string) => CATEGORY_LABELS[c] ?? c.charAt(0).toUpperCase() + c.slice(1);
