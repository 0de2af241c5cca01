/**
 * The notification center (`#/notifications`): yours, newest first (`GET /api/notifications`), 20 at a time
 * with "Load more" by cursor, filtered to unread ones or a category; mark one read, mark all read (of the
 * category shown), delete. New ones arrive live (the bell's socket, ./live.ts); after a reconnection the
 * list catches up with `after=<newest id>`, since the list is the record. A notification's link opens its
 * screen in the app when it is one of the app's addresses (./links.ts).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { asProblem, del, get, post, type ApiProblem } from "../../api";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { when } from "../../components/table";
import { useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href, navigate } from "../../router";
import { appTarget, isOutsideLink } from "./links";
import { categoryLabel, onNotification, onReconnect, readUnreadCount, setUnread, useUnread, type AppNotification } from "./live";

interface ListAnswer {
	items: AppNotification[];
	nextCursor: string | null;
	unreadCount: number;
}

const PAGE = 20;

export default function Notifications(_: ScreenProps) {
	const [unreadOnly, setUnreadOnly] = useState(false);
	const [category, setCategory] = useState("");
	const [items, setItems] = useState<AppNotification[]>([]);
	const [cursor, setCursor] = useState<string | null>(null);
	const [loading, setLoading] = useState(true);
	const [more, setMore] = useState(false);
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [notice, setNotice] = useState<string | null>(null);
	const [busy, setBusy] = useState<string | null>(null);
	const unread = useUnread();
	const heading = useRef<HTMLHeadingElement>(null);
	const listRef = useRef<HTMLUListElement>(null);
	// what the live callbacks read: the filters and the rows as they are now
	const state = useRef({ unreadOnly, category, items, loading });
	state.current = { unreadOnly, category, items, loading };
	const generation = useRef(0);
	// the categories that exist are those of the preferences
	const prefs = useApi(signal => get<{ categories: Record<string, unknown> }>("/api/notifications/preferences", undefined, { signal }));
	const categories = Object.keys(prefs.data?.categories ?? {});

	const query = (extra: Record<string, string | number | undefined>) => ({
		limit: PAGE,
		unread: unreadOnly ? "true" : undefined,
		category: category || undefined,
		...extra,
	});

	async function loadFirst() {
		const gen = ++generation.current;
		setLoading(true);
		setProblem(null);
		try {
			const page = await get<ListAnswer>("/api/notifications", query({}));
			if (gen !== generation.current) return;
			setItems(page.items);
			setCursor(page.nextCursor);
			setUnread(page.unreadCount);
		} catch (e) {
			if (gen === generation.current) setProblem(asProblem(e));
		} finally {
			if (gen === generation.current) setLoading(false);
		}
	}

	useEffect(() => void loadFirst(), [unreadOnly, category]);

	useEffect(
		() =>
			onNotification(n => {
				const s = state.current;
				if (s.category && n.category !== s.category) return;
				if (s.unreadOnly && n.readAt) return;
				setItems(rows => (rows.some(r => r.id === n.id) ? rows : [n, ...rows]));
			}),
		[],
	);

	useEffect(
		() =>
			onReconnect(() => {
				const s = state.current;
				const newest = s.items[0];
				if (s.loading || !newest) return void loadFirst();
				// the catch-up: only what is newer than the newest one shown
				get<ListAnswer>("/api/notifications", query({ after: newest.id, limit: 100 })).then(
					page => setItems(rows => [...page.items.filter(n => !rows.some(r => r.id === n.id)), ...rows]),
					() => undefined,
				);
			}),
		[unreadOnly, category],
	);

	async function loadMore() {
		if (!cursor) return;
		const gen = generation.current;
		setMore(true);
		setProblem(null);
		try {
			const page = await get<ListAnswer>("/api/notifications", query({ cursor }));
			if (gen !== generation.current) return;
			setItems(rows => [...rows, ...page.items.filter(n => !rows.some(r => r.id === n.id))]);
			setCursor(page.nextCursor);
		} catch (e) {
			setProblem(asProblem(e));
		} finally {
			setMore(false);
		}
	}

	async function act(key: string, fn: () => Promise<void>) {
		setBusy(key);
		setProblem(null);
		setNotice(null);
		try {
			await fn();
		} catch (e) {
			setProblem(asProblem(e));
		} finally {
			setBusy(null);
		}
	}

	const refreshCount = () => readUnreadCount();

	const markRead = (n: AppNotification) =>
		act(`read:${n.id}`, async () => {
			const updated = await post<AppNotification>(`/api/notifications/${encodeURIComponent(n.id)}/read`);
			setItems(rows => rows.map(r => (r.id === n.id ? { ...r, ...updated } : r)));
			// its button is gone: the focus stays on the notification
			requestAnimationFrame(() => listRef.current?.querySelector<HTMLElement>(`li[data-notification-id="${CSS.escape(n.id)}"]`)?.focus());
			await refreshCount();
		});

	const markAll = () =>
		act("all", async () => {
			const r = await post<{ updated: number; unreadCount: number }>("/api/notifications/read-all", category ? { category } : {});
			const now = new Date().toISOString();
			setItems(rows => rows.map(x => (x.readAt || (category && x.category !== category) ? x : { ...x, readAt: now })));
			setUnread(r.unreadCount);
			setNotice(r.updated === 1 ? "1 notification marked read." : `${r.updated} notifications marked read.`);
		});

	const remove = (n: AppNotification, index: number) =>
		act(`delete:${n.id}`, async () => {
			await del(`/api/notifications/${encodeURIComponent(n.id)}`);
			setItems(rows => rows.filter(r => r.id !== n.id));
			if (!n.readAt) await refreshCount();
			setNotice(`“${n.title}” deleted.`);
			// the focus goes on to the next notification (or the previous one, or the heading): never lost on the body
			requestAnimationFrame(() => {
				const rows = listRef.current?.querySelectorAll<HTMLElement>("li.nt-item");
				const next = rows?.[Math.min(index, (rows?.length ?? 1) - 1)];
				(next ?? heading.current)?.focus();
			});
		});

	/** Following a notification's link reads it (as opening an e-mail does). */
	const follow = (n: AppNotification, e: MouseEvent) => {
		const target = n.link ? appTarget(n.link) : null;
		if (!target) return;
		e.preventDefault();
		if (!n.readAt) void post(`/api/notifications/${encodeURIComponent(n.id)}/read`).then(refreshCount, () => undefined);
		navigate(target.path, { query: target.query });
	};

	return (
		<>
			<h1 ref={heading} tabIndex={-1}>
				Notifications
			</h1>
			<p>
				What the platform told you, newest first. New ones appear here and on the bell as they come.{" "}
				<a href={href("/notifications/preferences")}>Choose what you are told, and how</a>.
			</p>
			<div class="toolbar nt-toolbar">
				<label>
					Show
					<select
						value={unreadOnly ? "unread" : "all"}
						onChange={e => setUnreadOnly((e.currentTarget as HTMLSelectElement).value === "unread")}
					>
						<option value="all">All</option>
						<option value="unread">Unread only</option>
					</select>
				</label>
				<label>
					Category
					<select value={category} onChange={e => setCategory((e.currentTarget as HTMLSelectElement).value)}>
						<option value="">All categories</option>
						{categories.map(c => (
							<option key={c} value={c}>
								{categoryLabel(c)}
							</option>
						))}
					</select>
				</label>
				<button type="button" class="secondary" disabled={busy === "all" || unread === 0} onClick={markAll}>
					{category ? `Mark all ${categoryLabel(category).toLowerCase()} read` : "Mark all read"}
				</button>
			</div>
			<p class="nt-summary" role="status" aria-live="polite">
				{unread === null
					? ""
					: unread === 0
						? "Nothing unread."
						: unread === 1
							? "1 unread notification."
							: `${unread} unread notifications.`}
			</p>
			<ProblemBanner problem={problem ?? prefs.problem} onDismiss={problem ? () => setProblem(null) : undefined} />
			{notice ? <Notice kind="success">{notice}</Notice> : null}
			{loading ? (
				<Loading label="Loading your notifications…" />
			) : items.length === 0 ? (
				<p class="nt-empty">{unreadOnly || category ? "No notifications match these filters." : "No notifications yet."}</p>
			) : (
				<ul class="nt-list" ref={listRef} aria-label="Notifications">
					{items.map((n, i) => {
						const target = n.link ? appTarget(n.link) : null;
						return (
							<li
								key={n.id}
								class={`nt-item${n.readAt ? "" : " nt-unread"}`}
								tabIndex={-1}
								data-notification-id={n.id}
								aria-labelledby={`nt-${n.id}`}
							>
								<div class="nt-text">
									<p class="nt-title" id={`nt-${n.id}`}>
										{n.readAt ? null : <span class="nt-dot">Unread</span>}
										<strong>{n.title}</strong>
									</p>
									<p class="nt-body">{n.body}</p>
									<p class="hint">
										<span class="tag">{categoryLabel(n.category)}</span> <time dateTime={n.createdAt}>{when(n.createdAt)}</time>
									</p>
								</div>
								<div class="row-actions">
									{n.link && target ? (
										<a class="button secondary" href={href(target.path, target.query)} onClick={e => follow(n, e)}>
											Open<span class="sr-only"> “{n.title}”</span>
										</a>
									) : n.link && isOutsideLink(n.link) ? (
										<a class="button secondary" href={n.link} target="_blank" rel="noopener noreferrer">
											Open<span class="sr-only"> “{n.title}” on another site</span>
										</a>
									) : null}
									{n.readAt ? null : (
										<button type="button" class="small" disabled={busy === `read:${n.id}`} onClick={() => markRead(n)}>
											Mark read<span class="sr-only"> “{n.title}”</span>
										</button>
									)}
									<button type="button" class="small danger" disabled={busy === `delete:${n.id}`} onClick={() => remove(n, i)}>
										Delete<span class="sr-only"> “{n.title}”</span>
									</button>
								</div>
							</li>
						);
					})}
				</ul>
			)}
			{!loading && cursor ? (
				<p>
					<button type="button" class="secondary" disabled={more} onClick={loadMore}>
						{more ? "Loading…" : "Load more"}
					</button>
				</p>
			) : null}
		</>
	);
}
