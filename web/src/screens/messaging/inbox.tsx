/**
 * The messaging inbox (README, "Web app" → "Messaging screens"): conversations with filters (status,
 * channel, assignee, customer search), a thread, a reply with text or a saved template, assign, close and
 * reopen. New messages and conversation changes arrive live through the realtime channel
 * (`messaging.message.created|updated`, `messaging.conversation.updated`), without a reload.
 * Calls `/api/messaging/conversations`, `/api/messaging/customers`, `/api/messaging/templates`.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { get, post, type Page } from "../../api";
import { Field } from "../../components/field";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import { SearchInput, SelectFilter } from "../../components/filters";
import type { ScreenProps } from "../../nav";
import { navigate } from "../../router";
import type { SignedIn } from "../../session";
import { memberName, useMembers } from "../crm/members";
import { useRealtime } from "./realtime";
import { when } from "../../format";

export interface Conversation {
	id: string;
	customerId: string;
	appId: string;
	kind: "messenger" | "instagram" | "whatsapp";
	status: "open" | "pending" | "closed";
	assigneeId: string | null;
	unreadCount: number;
	lastMessage: { id: string; direction: "in" | "out"; text: string | null; at: string } | null;
	lastMessageAt: string;
	lastInboundAt: string | null;
}

interface Message {
	id: string;
	conversationId: string;
	direction: "in" | "out";
	text: string | null;
	attachments?: { type: string; url?: string }[];
	postback?: { title?: string; payload?: string } | null;
	reaction?: { emoji?: string; action?: string } | null;
	status: string;
	error?: { message?: string } | null;
	at: string;
	sentBy?: string | null;
}

interface Customer {
	id: string;
	name: string | null;
	profileStatus?: "pending" | "fetched" | "unavailable";
}

interface Template {
	id: string;
	appId: string;
	name: string;
	variables: string[];
	text?: string;
}

type List<T> = { items: T[]; nextCursor: string | null };

const CHANNELS: Record<Conversation["kind"], string> = { messenger: "Messenger", instagram: "Instagram", whatsapp: "WhatsApp" };
const STATUS: Record<Conversation["status"], string> = { open: "Open", pending: "Pending", closed: "Closed" };
const SENDING: Record<string, string> = {
	queued: "Queued",
	sending: "Sending…",
	sent: "Sent",
	delivered: "Delivered",
	read: "Read",
	failed: "Not sent",
	received: "",
};

/** Customer names by id, fetched once each. */
function useCustomerNames(ids: string[]) {
	const [names, setNames] = useState<Record<string, string>>({});
	const asked = useRef(new Set<string>());
	useEffect(() => {
		for (const id of ids) {
			if (asked.current.has(id)) continue;
			asked.current.add(id);
			// a new customer's profile is being fetched from Meta: ask again shortly (a few times)
			const ask = (left: number) =>
				get<Customer>(`/api/messaging/customers/${encodeURIComponent(id)}`).then(
					c => {
						setNames(n => ({ ...n, [id]: c.name ?? "Unnamed customer" }));
						if (c.profileStatus === "pending" && left > 0) setTimeout(() => void ask(left - 1), 1000);
					},
					() => setNames(n => ({ ...n, [id]: "Unknown customer" })),
				);
			void ask(10);
		}
	}, [ids.join(",")]);
	return names;
}

const describeMessage = (m: Message) =>
	m.text ??
	(m.postback ? `Tapped “${m.postback.title ?? m.postback.payload}”` : null) ??
	(m.reaction ? `Reacted ${m.reaction.emoji ?? ""}` : null) ??
	(m.attachments?.length ? `${m.attachments.map(a => a.type).join(", ")} attachment` : "(no text)");

/** Dotted variable names as the object the template reads: `[["order.id", "7"]]` → `{ order: { id: "7" } }`. */
function nested(entries: [string, string][]): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of entries) {
		const path = key.split(".");
		let at = out;
		for (const part of path.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
		at[path[path.length - 1]] = value;
	}
	return out;
}

export default function Inbox({ route, session }: ScreenProps) {
	const selected = route.query.get("c");
	const [status, setStatus] = useState("open");
	const [kind, setKind] = useState("");
	const [assignee, setAssignee] = useState("");
	const [q, setQ] = useState("");
	const [search, setSearch] = useState("");

	const list = useApi(
		async signal => {
			const query = { status, kind, assigneeId: assignee, limit: 50 };
			if (!search) return get<List<Conversation>>("/api/messaging/conversations", query, { signal });
			// the conversations of the customers whose name matches (GET /customers?q=)
			const customers = await get<Page<Customer>>("/api/messaging/customers", { q: search, pageSize: 20 }, { signal });
			const lists = await Promise.all(
				customers.rows.map(c => get<List<Conversation>>("/api/messaging/conversations", { ...query, customerId: c.id }, { signal })),
			);
			const items = lists.flatMap(l => l.items).sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt));
			return { items, nextCursor: null };
		},
		[status, kind, assignee, search],
	);
	const [rows, setRows] = useState<Conversation[]>([]);
	const [cursor, setCursor] = useState<string | null>(null);
	useEffect(() => {
		if (!list.data) return;
		setRows(list.data.items);
		setCursor(list.data.nextCursor);
	}, [list.data]);
	const more = useAction(async () => {
		const next = await get<List<Conversation>>("/api/messaging/conversations", { status, kind, assigneeId: assignee, limit: 50, cursor });
		setRows(prev => [...prev, ...next.items.filter(c => !prev.some(r => r.id === c.id))]);
		setCursor(next.nextCursor);
	});
	const names = useCustomerNames(rows.map(r => r.customerId));
	const [incoming, setIncoming] = useState<Message | null>(null);
	const [updated, setUpdated] = useState<Message | null>(null);
	const [changedConversation, setChangedConversation] = useState<Conversation | null>(null);

	const matches = (c: Conversation) =>
		(!status || c.status === status) &&
		(!kind || c.kind === kind) &&
		(!assignee || (assignee === "me" ? c.assigneeId === session.user.id : assignee === "none" ? c.assigneeId === null : true));

	const live = useRealtime(
		{
			"messaging.conversation.updated": (c: Conversation) => {
				setChangedConversation(c);
				setRows(prev => {
					const others = prev.filter(r => r.id !== c.id);
					const known = others.length !== prev.length;
					// a conversation new to this list (a first message, a reopening): only if the filters take it
					if (!known && (search || !matches(c))) return prev;
					return [c, ...others].filter(r => r.id === selected || matches(r)).sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt));
				});
			},
			"messaging.message.created": (m: Message) => setIncoming(m),
			"messaging.message.updated": (m: Message) => setUpdated(m),
		},
		// events sent while the socket was away are not replayed: read the list again
		() => list.reload(),
	);

	return (
		<>
			<h1>Inbox</h1>
			<p class="hint" role="status">
				{live.connected ? "Live: new messages appear as they arrive." : "Connecting to live updates…"}
			</p>
			<div class="inbox">
				<section class="inbox-list" aria-labelledby="conversations-heading">
					<h2 id="conversations-heading">Conversations</h2>
					<Form
						class="inbox-filters"
						role="search"
						onSubmit={() => {
							setSearch(q.trim());
						}}
					>
						<SelectFilter
							label="Status"
							value={status}
							onChange={setStatus}
							any="All"
							words={{ open: "Open", pending: "Pending", closed: "Closed" }}
						/>
						<SelectFilter
							label="Channel"
							value={kind}
							onChange={setKind}
							any="All channels"
							words={{ messenger: "Messenger", instagram: "Instagram", whatsapp: "WhatsApp" }}
						/>
						<SelectFilter label="Assigned to" value={assignee} onChange={setAssignee} any="Anyone" words={{ me: "Me", none: "Nobody" }} />
						<SearchInput label="Customer" value={q} onInput={setQ} maxLength={100} placeholder="Name" />
						<button type="submit" class="secondary small">
							Search
						</button>
					</Form>
					<ProblemBanner problem={list.problem} />
					{list.loading && !list.data ? (
						<Loading />
					) : rows.length === 0 ? (
						<p class="hint">No conversations match.</p>
					) : (
						<ul class="conversations">
							{rows.map(c => (
								<li key={c.id}>
									<a
										href={`#/messaging?c=${encodeURIComponent(c.id)}`}
										aria-current={c.id === selected ? "true" : undefined}
										class={c.unreadCount ? "unread" : undefined}
										data-conversation={c.id}
									>
										<span class="conv-head">
											<strong>{names[c.customerId] ?? "…"}</strong>
											<span class="hint">{CHANNELS[c.kind]}</span>
										</span>
										<span class="conv-preview">{c.lastMessage?.text ?? "—"}</span>
										<span class="conv-meta hint">
											{STATUS[c.status]} · {when(c.lastMessageAt)}
											{c.unreadCount ? <span class="badge">{c.unreadCount} unread</span> : null}
										</span>
									</a>
								</li>
							))}
						</ul>
					)}
					<ProblemBanner problem={more.problem} />
					{cursor ? (
						<button type="button" class="secondary small" disabled={more.busy} onClick={() => void more.run()}>
							{more.busy ? "Loading…" : "Load more conversations"}
						</button>
					) : null}
				</section>
				<section class="inbox-thread" aria-labelledby="thread-heading">
					{selected ? (
						<Thread
							key={selected}
							id={selected}
							session={session}
							customerName={(c: Conversation) => names[c.customerId]}
							incoming={incoming}
							updated={updated}
							changed={changedConversation}
							onChange={c => setRows(prev => prev.map(r => (r.id === c.id ? c : r)))}
						/>
					) : (
						<>
							<h2 id="thread-heading">Thread</h2>
							<p class="hint">Choose a conversation to read it and reply.</p>
						</>
					)}
				</section>
			</div>
		</>
	);
}

function Thread(p: {
	id: string;
	session: SignedIn;
	customerName(c: Conversation): string | undefined;
	incoming: Message | null;
	updated: Message | null;
	changed: Conversation | null;
	onChange(c: Conversation): void;
}) {
	const conv = useApi(signal => get<Conversation>(`/api/messaging/conversations/${encodeURIComponent(p.id)}`, undefined, { signal }), [p.id]);
	const msgs = useApi(
		signal => get<List<Message>>(`/api/messaging/conversations/${encodeURIComponent(p.id)}/messages`, { limit: 100 }, { signal }),
		[p.id],
	);
	const [conversation, setConversation] = useState<Conversation | null>(null);
	const [messages, setMessages] = useState<Message[]>([]);
	const members = useMembers(p.session);
	useEffect(() => {
		if (conv.data) setConversation(conv.data);
	}, [conv.data]);
	const [older, setOlder] = useState<string | null>(null);
	useEffect(() => {
		if (!msgs.data) return;
		setMessages([...msgs.data.items].reverse());
		setOlder(msgs.data.nextCursor);
	}, [msgs.data]);
	const loadOlder = useAction(async () => {
		const page = await get<List<Message>>(`/api/messaging/conversations/${encodeURIComponent(p.id)}/messages`, { limit: 100, cursor: older });
		setMessages(prev => [...[...page.items].reverse().filter(m => !prev.some(x => x.id === m.id)), ...prev]);
		setOlder(page.nextCursor);
	});
	// live: a new message of this conversation, a status change of one, the conversation itself
	useEffect(() => {
		const m = p.incoming;
		if (m && m.conversationId === p.id) setMessages(prev => (prev.some(x => x.id === m.id) ? prev : [...prev, m]));
		if (m && m.conversationId === p.id && m.direction === "in")
			void post(`/api/messaging/conversations/${encodeURIComponent(p.id)}/read`).catch(() => undefined);
	}, [p.incoming]);
	useEffect(() => {
		const m = p.updated;
		if (m && m.conversationId === p.id) setMessages(prev => prev.map(x => (x.id === m.id ? m : x)));
	}, [p.updated]);
	useEffect(() => {
		if (p.changed?.id === p.id) setConversation(p.changed);
	}, [p.changed]);
	// opening a conversation reads it
	useEffect(() => {
		post<Conversation>(`/api/messaging/conversations/${encodeURIComponent(p.id)}/read`).then(
			c => c && p.onChange(c),
			() => undefined,
		);
	}, [p.id]);

	const end = useRef<HTMLLIElement>(null);
	// a new last message (not older ones loaded above) brings the end into view
	useEffect(() => end.current?.scrollIntoView({ block: "nearest" }), [messages[messages.length - 1]?.id]);

	const act = useAction(async (path: string, body?: unknown) => {
		const c = await post<Conversation>(`/api/messaging/conversations/${encodeURIComponent(p.id)}/${path}`, body);
		setConversation(c);
		p.onChange(c);
	});

	if (conv.problem) return <ProblemBanner problem={conv.problem} />;
	if (!conversation) return <Loading />;
	const name = p.customerName(conversation) ?? "Customer";
	return (
		<>
			<div class="thread-head">
				<div>
					<h2 id="thread-heading">{name}</h2>
					<p class="hint">
						{CHANNELS[conversation.kind]} · {STATUS[conversation.status]} · assigned to {memberName(p.session, conversation.assigneeId)}
					</p>
				</div>
				<div class="toolbar">
					<label>
						Assign to
						<select
							value={conversation.assigneeId ?? ""}
							disabled={act.busy}
							onChange={e => {
								const v = (e.currentTarget as HTMLSelectElement).value;
								void act.run("assign", { assigneeId: v || null });
							}}
						>
							<option value="">Nobody</option>
							{(members.data?.rows ?? [{ userId: p.session.user.id, role: "" }]).map(m => (
								<option key={m.userId} value={m.userId}>
									{memberName(p.session, m.userId)}
								</option>
							))}
						</select>
					</label>
					{conversation.status === "closed" ? (
						<button type="button" class="secondary" disabled={act.busy} onClick={() => void act.run("reopen")}>
							Reopen
						</button>
					) : (
						<>
							{conversation.status === "open" ? (
								<button type="button" class="secondary" disabled={act.busy} onClick={() => void act.run("pending")}>
									Mark pending
								</button>
							) : null}
							<button type="button" class="secondary" disabled={act.busy} onClick={() => void act.run("close")}>
								Close
							</button>
						</>
					)}
				</div>
			</div>
			<ProblemBanner problem={act.problem} onDismiss={() => act.setProblem(null)} />
			<ProblemBanner problem={msgs.problem} />
			<ProblemBanner problem={loadOlder.problem} />
			{older ? (
				<button type="button" class="secondary small" disabled={loadOlder.busy} onClick={() => void loadOlder.run()}>
					{loadOlder.busy ? "Loading…" : "Load older messages"}
				</button>
			) : null}
			<ol class="messages" aria-label={`Messages with ${name}`} aria-live="polite" aria-relevant="additions">
				{messages.length === 0 && !msgs.loading ? <li class="hint">No messages yet.</li> : null}
				{messages.map(m => (
					<li key={m.id} class={`message message-${m.direction}`} data-message={m.id}>
						<span class="sr-only">{m.direction === "in" ? `${name} wrote:` : "You replied:"}</span>
						<p class="message-text">{describeMessage(m)}</p>
						<span class="hint">
							{when(m.at)}
							{m.direction === "out" && SENDING[m.status] ? ` · ${SENDING[m.status]}` : null}
							{m.status === "failed" && m.error?.message ? ` · ${m.error.message}` : null}
						</span>
					</li>
				))}
				<li ref={end} aria-hidden="true" class="messages-end" />
			</ol>
			<Composer conversation={conversation} onSent={m => setMessages(prev => (prev.some(x => x.id === m.id) ? prev : [...prev, m]))} />
		</>
	);
}

function Composer({ conversation, onSent }: { conversation: Conversation; onSent(m: Message): void }) {
	const [mode, setMode] = useState<"text" | "template">("text");
	const [text, setText] = useState("");
	const [templateId, setTemplateId] = useState("");
	const [vars, setVars] = useState<Record<string, string>>({});
	const templates = useApi(
		signal => get<Page<Template>>("/api/messaging/templates", { appId: conversation.appId, pageSize: 100 }, { signal }),
		[conversation.appId],
	);
	const template = useMemo(() => templates.data?.rows.find(t => t.id === templateId), [templates.data, templateId]);
	const send = useAction(async () => {
		const body =
			mode === "text"
				? { text: text.trim() }
				: { templateId, vars: nested(Object.entries(vars).filter(([k, v]) => v !== "" && template?.variables.includes(k))) };
		// one key per attempt: a retried request (a lost answer) is sent once
		const m = await post<Message>(`/api/messaging/conversations/${encodeURIComponent(conversation.id)}/messages`, body, {
			headers: { "idempotency-key": crypto.randomUUID() },
		});
		onSent(m);
		if (mode === "text") setText("");
		else setVars({});
	});
	return (
		<Form class="composer" aria-label="Reply" problem={send.problem} onSubmit={() => send.run()}>
			<fieldset class="segmented">
				<legend>Reply with</legend>
				<label>
					<input type="radio" name="mode" value="text" checked={mode === "text"} onChange={() => setMode("text")} /> Text
				</label>
				<label>
					<input type="radio" name="mode" value="template" checked={mode === "template"} onChange={() => setMode("template")} /> Template
				</label>
			</fieldset>
			<ProblemBanner problem={send.problem} fields={["text", "templateId", "vars"]} />
			{mode === "text" ? (
				<Field label="Your reply" name="text" type="textarea" value={text} onInput={setText} maxLength={2000} required />
			) : templates.loading && !templates.data ? (
				<Loading label="Loading templates…" />
			) : (templates.data?.rows.length ?? 0) === 0 ? (
				<p class="hint">This app has no templates yet (an admin saves them under /api/messaging/templates).</p>
			) : (
				<>
					<div class="field">
						<label for="composer-template">Saved template</label>
						<select
							id="composer-template"
							value={templateId}
							required
							onChange={e => setTemplateId((e.currentTarget as HTMLSelectElement).value)}
						>
							<option value="">Choose a template…</option>
							{templates.data!.rows.map(t => (
								<option key={t.id} value={t.id}>
									{t.name}
								</option>
							))}
						</select>
						{template?.text ? <p class="hint">{template.text}</p> : null}
						{send.problem?.fieldError("templateId") ? (
							<p class="field-error" role="alert">
								{send.problem.fieldError("templateId")}
							</p>
						) : null}
					</div>
					{template?.variables.map(v => (
						<Field
							key={v}
							label={v}
							name={`vars.${v}`}
							value={vars[v] ?? ""}
							onInput={x => setVars(o => ({ ...o, [v]: x }))}
							maxLength={500}
						/>
					))}
				</>
			)}
			<div class="toolbar">
				<button type="submit" disabled={send.busy || (mode === "text" ? !text.trim() : !templateId)}>
					{send.busy ? "Sending…" : "Send"}
				</button>
				<button type="button" class="link" onClick={() => navigate("/messaging")}>
					Back to the list
				</button>
			</div>
		</Form>
	);
}
