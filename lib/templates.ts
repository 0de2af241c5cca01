/**
 * Notification templates (README, "Platform: notifications" → "Templates"): Liquid (liquidjs) in strict
 * mode, one template per message with a part per delivery channel:
 *   inApp { title, body, link? } · email { subject, html, text } · push { title, body }.
 *
 * - Strict: an unknown filter or a tag that does not close fails to parse; a variable the message does not
 *   declare is found by static analysis (every branch, not only the one a sample render would take). Both
 *   are reported with their line and column, at save time.
 * - HTML escapes every output (`outputEscape: "escape"`), and `raw` cannot turn that off there: the values
 *   come from other people (a follower's name). Text parts are plain text; clients must not render them
 *   as HTML.
 * - No file system: `include`, `render` and `layout` are refused (the engine has no templates to load).
 * - Bounded: parse, render time and memory limits, so a template cannot hang or exhaust a node.
 *
 * `lateVariables` (the reset link) are filled in only when an e-mail or push is sent and never stored:
 * only those parts may use them.
 */
import { Liquid, type Template } from "liquidjs";

export const CHANNELS = ["inApp", "email", "push"] as const;
export type Channel = (typeof CHANNELS)[number];
export const CATEGORIES = ["security", "follows", "comments", "mentions", "likes", "assignments", "invitations", "updates", "marketing"] as const;
export type Category = (typeof CATEGORIES)[number];

/** The fields of each channel's part and their longest source (characters). */
export const PART_FIELDS = {
	inApp: { title: 500, body: 4000, link: 1000 },
	email: { subject: 500, html: 100_000, text: 50_000 },
	push: { title: 200, body: 1000 },
} as const satisfies Record<Channel, Record<string, number>>;
/** Fields a part may leave out. */
export const OPTIONAL_FIELDS: Record<Channel, string[]> = { inApp: ["link"], email: [], push: [] };

export type Parts = {
	inApp?: { title: string; body: string; link?: string };
	email?: { subject: string; html: string; text: string };
	push?: { title: string; body: string };
};
export type RenderedPart = Record<string, string>;

export interface TemplateDefinition {
	key: string;
	category: Category;
	/** the channels this message may use */
	channels: Channel[];
	/** the variables a sender passes (dotted paths) */
	variables: string[];
	/** filled in at delivery (e-mail, push) only, never stored */
	lateVariables?: string[];
	parts: Parts;
}

/** Available in every template. */
export const COMMON_VARIABLES = ["recipient.id", "recipient.name", "app.name", "app.url"];

export interface TemplateIssue {
	field: string;
	message: string;
}

const LIMITS = { parseLimit: 200_000, renderLimit: 200, memoryLimit: 5_000_000 };
const base = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, templates: {}, timezoneOffset: 0, ...LIMITS };

const textEngine = new Liquid(base);
const htmlEngine = new Liquid({ ...base, outputEscape: "escape" });
// `raw` would print a variable unescaped into e-mail HTML; here it is an ordinary (escaped) pass-through.
htmlEngine.registerFilter("raw", (value: unknown) => value);

const engineFor = (channel: Channel, field: string) => (channel === "email" && field === "html" ? htmlEngine : textEngine);

const NO_FILES = /\b(include|render|layout)\b/;

function position(err: unknown): string {
	const e = err as { token?: { getPosition?: () => [number, number] }; message?: string };
	const pos = e.token?.getPosition?.();
	const message = String(e.message ?? err)
		.replace(/, line:\d+, col:\d+$/, "")
		.replace(/^ENOENT: /, "");
	return pos ? `line ${pos[0]}, column ${pos[1]}: ${message}` : message;
}

/** The static path of a variable use (`a.b[0]`), up to the first dynamic segment. */
function staticPath(segments: (string | number | object)[]): string {
	let out = "";
	for (const s of segments) {
		if (typeof s === "string") out += out ? `.${s}` : s;
		else if (typeof s === "number") out += `[${s}]`;
		else break;
	}
	return out;
}

/** May a use of `used` appear when `declared` paths are passed? A declared path, a parent of one, or `.size/.first/.last` of one. */
function isDeclared(used: string, declared: string[]): boolean {
	return declared.some(d => used === d || d.startsWith(`${used}.`) || (used.startsWith(d) && /^\.(size|first|last)$/.test(used.slice(d.length))));
}

/**
 * Every problem of a template source for one field: parse errors, file tags, and variables outside
 * `allowed`; each message starts with its line and column.
 */
export function checkSource(channel: Channel, field: string, source: string, allowed: string[]): TemplateIssue[] {
	const name = `${channel}.${field}`;
	for (const block of source.match(/\{%[\s\S]*?%\}/g) ?? []) {
		if (NO_FILES.test(block.replace(/^\{%-?|-?%\}$/g, ""))) {
			const line = source.slice(0, source.indexOf(block)).split("\n").length;
			return [{ field: name, message: `line ${line}: include, render and layout are not available in notification templates` }];
		}
	}
	let parsed: Template[];
	try {
		parsed = engineFor(channel, field).parse(source);
	} catch (err) {
		return [{ field: name, message: position(err) }];
	}
	const issues: TemplateIssue[] = [];
	const analysis = engineFor(channel, field).analyzeSync(parsed, { partials: false });
	for (const uses of Object.values(analysis.globals)) {
		for (const v of uses) {
			const used = staticPath(v.segments);
			if (v.segments.some(s => typeof s === "object"))
				issues.push({
					field: name,
					message: `line ${v.location.row}, column ${v.location.col}: '${v.toString()}' is a computed lookup, which cannot be checked: name the variable`,
				});
			else if (!isDeclared(used, allowed))
				issues.push({
					field: name,
					message: `line ${v.location.row}, column ${v.location.col}: unknown variable '${used}' (this message has: ${allowed.join(", ")})`,
				});
		}
	}
	return issues;
}

/** The variables a part may use. */
export function allowedVariables(def: Pick<TemplateDefinition, "variables" | "lateVariables">, channel: Channel): string[] {
	return [...COMMON_VARIABLES, ...def.variables, ...(channel === "inApp" ? [] : (def.lateVariables ?? []))];
}

/**
 * Problems of a set of parts for a message with these variables; empty when every part compiles. With
 * `partial` (an override of a built-in message) a part may give only some of its fields.
 */
export function checkParts(parts: Parts, def: Pick<TemplateDefinition, "variables" | "lateVariables">, partial = false): TemplateIssue[] {
	const issues: TemplateIssue[] = [];
	for (const channel of CHANNELS) {
		const part = parts[channel] as Record<string, string> | undefined;
		if (!part) continue;
		for (const field of Object.keys(PART_FIELDS[channel])) {
			const source = part[field];
			if (source === undefined) {
				if (!partial && !OPTIONAL_FIELDS[channel].includes(field)) issues.push({ field: `${channel}.${field}`, message: "is required" });
				continue;
			}
			issues.push(...checkSource(channel, field, source, allowedVariables(def, channel)));
		}
	}
	return issues;
}

const parsedCache = new Map<string, Template[]>();
function parsedOf(channel: Channel, field: string, source: string): Template[] {
	const key = `${channel === "email" && field === "html" ? "h" : "t"}:${source}`;
	let parsed = parsedCache.get(key);
	if (!parsed) {
		parsed = engineFor(channel, field).parse(source);
		if (parsedCache.size >= 500) parsedCache.delete(parsedCache.keys().next().value as string);
		parsedCache.set(key, parsed);
	}
	return parsed;
}

/** Renders one channel's part. A variable missing from `vars` throws (strict): the sender broke the message's contract. */
export function renderPart(channel: Channel, part: Record<string, string>, vars: Record<string, unknown>): RenderedPart {
	const out: RenderedPart = {};
	for (const field of Object.keys(PART_FIELDS[channel])) {
		const source = part[field];
		if (source === undefined) continue;
		out[field] = engineFor(channel, field)
			.renderSync(parsedOf(channel, field, source), vars)
			.trim();
	}
	return out;
}

/** Variables a sender did not pass that the message declares (reported before anything is stored). */
export function missingVariables(def: Pick<TemplateDefinition, "variables">, vars: Record<string, unknown>): string[] {
	return def.variables.filter(path => {
		let v: unknown = vars;
		for (const seg of path.split(".")) {
			if (v === null || typeof v !== "object" || !Object.prototype.hasOwnProperty.call(v, seg)) return true;
			v = (v as Record<string, unknown>)[seg];
		}
		return v === undefined;
	});
}

const p = (...lines: string[]) => lines.join("\n");

/** The platform's own messages; a tenant may override any part of them (notificationtemplates). */
export const BUILTIN_TEMPLATES: Record<string, TemplateDefinition> = {
	"password-reset": {
		key: "password-reset",
		category: "security",
		channels: ["inApp", "email"],
		variables: ["resetId", "expiresAt"],
		lateVariables: ["resetUrl"],
		parts: {
			inApp: {
				title: "Password reset requested",
				body: "Someone asked to reset your password. If it was you, follow the link in the e-mail we sent; if not, ignore it: your password stays as it is.",
			},
			email: {
				subject: "Reset your {{ app.name }} password",
				html: p(
					"<p>Hi {{ recipient.name }},</p>",
					'<p>Someone asked to reset the password of your {{ app.name }} account. <a href="{{ resetUrl }}">Choose a new password</a>.</p>',
					"<p>The link works once, until {{ expiresAt | date: '%Y-%m-%d %H:%M' }} UTC. If it was not you, ignore this e-mail: your password stays as it is.</p>",
				),
				text: p(
					"Hi {{ recipient.name }},",
					"",
					"Someone asked to reset the password of your {{ app.name }} account. Choose a new password here:",
					"{{ resetUrl }}",
					"",
					"The link works once, until {{ expiresAt | date: '%Y-%m-%d %H:%M' }} UTC. If it was not you, ignore this e-mail: your password stays as it is.",
				),
			},
		},
	},
	"lead-assigned": {
		key: "lead-assigned",
		category: "assignments",
		channels: ["inApp", "email", "push"],
		variables: ["lead.id", "lead.name", "lead.company"],
		parts: {
			inApp: {
				title: "New lead: {{ lead.name }}",
				body: "{{ lead.name }}{% if lead.company %} ({{ lead.company }}){% endif %} is assigned to you.",
				link: "{{ app.url }}/leads/{{ lead.id }}",
			},
			email: {
				subject: "New lead assigned to you: {{ lead.name }}",
				html: p(
					"<p>Hi {{ recipient.name }},</p>",
					'<p>The lead <a href="{{ app.url }}/leads/{{ lead.id }}">{{ lead.name }}</a>{% if lead.company %} ({{ lead.company }}){% endif %} is assigned to you.</p>',
				),
				text: p(
					"Hi {{ recipient.name }},",
					"",
					"The lead {{ lead.name }}{% if lead.company %} ({{ lead.company }}){% endif %} is assigned to you:",
					"{{ app.url }}/leads/{{ lead.id }}",
				),
			},
			push: { title: "New lead assigned", body: "{{ lead.name }}{% if lead.company %} ({{ lead.company }}){% endif %} is yours." },
		},
	},
	"new-follower": {
		key: "new-follower",
		category: "follows",
		channels: ["inApp", "email", "push"],
		variables: ["follower.id", "follower.name"],
		parts: {
			inApp: { title: "New follower", body: "{{ follower.name }} started following you.", link: "{{ app.url }}/users/{{ follower.id }}" },
			email: {
				subject: "{{ follower.name }} is now following you",
				html: p(
					"<p>Hi {{ recipient.name }},</p>",
					'<p><a href="{{ app.url }}/users/{{ follower.id }}">{{ follower.name }}</a> started following you on {{ app.name }}.</p>',
				),
				text: p(
					"Hi {{ recipient.name }},",
					"",
					"{{ follower.name }} started following you on {{ app.name }}:",
					"{{ app.url }}/users/{{ follower.id }}",
				),
			},
			push: { title: "New follower", body: "{{ follower.name }} started following you." },
		},
	},
	// To an address (tenants' invitations are to e-mail addresses, accounts or not): the e-mail goes to the invited
	// address, fetched at sending time while the invitation is open (late-variables.ts).
	invitation: {
		key: "invitation",
		category: "invitations",
		channels: ["inApp", "email"],
		variables: ["invitationId", "tenant.id", "tenant.name", "inviter.name", "role", "expiresAt"],
		parts: {
			inApp: {
				title: "Invitation to {{ tenant.name }}",
				body: "{{ inviter.name }} invited you to join {{ tenant.name }} as {{ role }}.",
				link: "{{ app.url }}/invitations/{{ invitationId }}/accept",
			},
			email: {
				subject: "{{ inviter.name }} invited you to {{ tenant.name }} on {{ app.name }}",
				html: p(
					"<p>Hello,</p>",
					"<p>{{ inviter.name }} invited you to join <strong>{{ tenant.name }}</strong> on {{ app.name }} as {{ role }}.</p>",
					'<p><a href="{{ app.url }}/invitations/{{ invitationId }}/accept">Accept the invitation</a> (sign in, or create an account, with this e-mail address).</p>',
					"<p>It is open until {{ expiresAt | date: '%Y-%m-%d %H:%M' }} UTC. If you do not know {{ tenant.name }}, ignore this e-mail.</p>",
				),
				text: p(
					"Hello,",
					"",
					"{{ inviter.name }} invited you to join {{ tenant.name }} on {{ app.name }} as {{ role }}. Accept the invitation here",
					"(sign in, or create an account, with this e-mail address):",
					"{{ app.url }}/invitations/{{ invitationId }}/accept",
					"",
					"It is open until {{ expiresAt | date: '%Y-%m-%d %H:%M' }} UTC. If you do not know {{ tenant.name }}, ignore this e-mail.",
				),
			},
		},
	},
	mention: {
		key: "mention",
		category: "mentions",
		channels: ["inApp", "email", "push"],
		variables: ["author.id", "author.name", "post.id", "place"],
		parts: {
			inApp: {
				title: "{{ author.name }} mentioned you",
				body: "{{ author.name }} mentioned you in a {{ place }}.",
				link: "{{ app.url }}/posts/{{ post.id }}",
			},
			email: {
				subject: "{{ author.name }} mentioned you",
				html: p(
					"<p>Hi {{ recipient.name }},</p>",
					'<p>{{ author.name }} mentioned you in a <a href="{{ app.url }}/posts/{{ post.id }}">{{ place }}</a>.</p>',
				),
				text: p("Hi {{ recipient.name }},", "", "{{ author.name }} mentioned you in a {{ place }}:", "{{ app.url }}/posts/{{ post.id }}"),
			},
			push: { title: "{{ author.name }} mentioned you", body: "In a {{ place }}." },
		},
	},
	comment: {
		key: "comment",
		category: "comments",
		channels: ["inApp", "email", "push"],
		variables: ["commenter.id", "commenter.name", "post.id"],
		parts: {
			inApp: { title: "New comment", body: "{{ commenter.name }} commented on your post.", link: "{{ app.url }}/posts/{{ post.id }}" },
			email: {
				subject: "{{ commenter.name }} commented on your post",
				html: p(
					"<p>Hi {{ recipient.name }},</p>",
					'<p>{{ commenter.name }} commented on <a href="{{ app.url }}/posts/{{ post.id }}">your post</a>.</p>',
				),
				text: p("Hi {{ recipient.name }},", "", "{{ commenter.name }} commented on your post:", "{{ app.url }}/posts/{{ post.id }}"),
			},
			push: { title: "New comment", body: "{{ commenter.name }} commented on your post." },
		},
	},
};

// The built-ins are held to the same rules as a tenant's templates.
for (const def of Object.values(BUILTIN_TEMPLATES)) {
	const issues = checkParts(def.parts, def);
	if (issues.length) throw new Error(`built-in template ${def.key}: ${JSON.stringify(issues)}`);
}
