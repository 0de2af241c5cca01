/**
 * The demo data set. Everything here is fixed or drawn from a PRNG seeded with SEED, so every run asks for
 * exactly the same records (README, "Demo data"). Change SEED and the draws (who follows whom, who likes
 * what) change; the names and texts are the lists below.
 */
import { createHash } from "node:crypto";

export const SEED = "valence-demo-v1";

/** The password of every demo account: demo data only, printed by the seed and stated in the README. */
export const DEMO_PASSWORD = "northwind-spring-2026";

/** mulberry32: a small, well-known 32-bit PRNG; the same seed gives the same sequence on every machine. */
export function prng(seed: string): () => number {
	let a = createHash("sha256").update(seed).digest().readUInt32LE(0);
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** A stable secret-looking string derived from SEED (demo app secret, tokens): never a real credential. */
export const derived = (what: string, length = 32) => createHash("sha256").update(`${SEED}:${what}`).digest("hex").slice(0, length);

export interface DemoUser {
	key: string;
	name: string;
	email: string;
	role: "owner" | "admin" | "member";
	bio: string;
	location: string;
}

export const USERS: DemoUser[] = [
	{
		key: "maya",
		name: "Maya Lindqvist",
		email: "demo@example.com",
		role: "owner",
		bio: "Founder of Northwind Studio. Coffee, maps and good questions.",
		location: "Stockholm",
	},
	{
		key: "jonas",
		name: "Jonas Weber",
		email: "jonas.weber@example.com",
		role: "admin",
		bio: "Head of sales. Closes deals, opens doors.",
		location: "Berlin",
	},
	{
		key: "aiko",
		name: "Aiko Tanaka",
		email: "aiko.tanaka@example.com",
		role: "member",
		bio: "Account executive for APAC and the Nordics.",
		location: "Osaka",
	},
	{
		key: "lucas",
		name: "Lucas Moreau",
		email: "lucas.moreau@example.com",
		role: "member",
		bio: "Account executive. Former chef, still plans in courses.",
		location: "Lyon",
	},
	{
		key: "priya",
		name: "Priya Raman",
		email: "priya.raman@example.com",
		role: "member",
		bio: "Customer support lead: every message answered.",
		location: "Bengaluru",
	},
	{
		key: "tomas",
		name: "Tomás Oliveira",
		email: "tomas.oliveira@example.com",
		role: "member",
		bio: "Backend developer. Microservices by day, sourdough by night.",
		location: "Lisbon",
	},
	{
		key: "fatima",
		name: "Fatima Haddad",
		email: "fatima.haddad@example.com",
		role: "member",
		bio: "Product designer who sketches before she speaks.",
		location: "Amman",
	},
	{
		key: "noah",
		name: "Noah Becker",
		email: "noah.becker@example.com",
		role: "member",
		bio: "Marketing, campaigns and the occasional podcast.",
		location: "Hamburg",
	},
];
export const OWNER = USERS[0];

export const TENANT = { name: "Northwind Studio", slug: "northwind-demo" };

export interface DemoPost {
	author: string;
	text: string;
	visibility?: "public" | "followers";
	/** an image drawn for the post: two colours of a gradient */
	image?: [string, string];
}

export const POSTS: DemoPost[] = [
	{ author: "maya", text: "Welcome to Northwind Studio's corner of Valence! Say hi below 👋 #welcome", image: ["#0f766e", "#a7f3d0"] },
	{ author: "jonas", text: "Q1 pipeline review on Thursday. Bring your three best stories, not your thirty slides. #sales" },
	{ author: "aiko", text: "Closed our first deal in Osaka today. Patience is a sales technique. #sales #win", image: ["#b91c1c", "#fde68a"] },
	{ author: "lucas", text: "Tip: call the customer back within five minutes and they remember you forever. #sales" },
	{ author: "priya", text: "Support inbox at zero before lunch. The new WhatsApp channel is a joy. #support" },
	{ author: "tomas", text: "Shipped the webhook retry fix. Meta can retry for 36 hours and we will still count once. #engineering" },
	{ author: "fatima", text: "New onboarding screens, first sketches. Feedback welcome! #design", image: ["#4338ca", "#f0abfc"] },
	{ author: "noah", text: "Spring campaign brief is out. Theme: small teams, big reach. #marketing" },
	{ author: "maya", text: "Reminder: Friday demo day. Show something unfinished. #culture", visibility: "followers" },
	{ author: "aiko", text: "Reading list for the week: three books on negotiation, one on tea. #reading" },
	{
		author: "tomas",
		text: "Load test results: 2 cores, one process, and the feed still answers in milliseconds. #engineering",
		image: ["#1e293b", "#38bdf8"],
	},
	{ author: "jonas", text: "Congrats @lucas on the Brightline renewal! #win" },
	{ author: "priya", text: "A customer wrote: 'you answered before I finished my coffee'. That is the bar. #support" },
	{ author: "fatima", text: "Colour palette for the spring campaign: sea green, sand, and a brave coral. #design" },
	{ author: "noah", text: "Podcast episode 12 is live: how a five-person team runs a CRM. #marketing", visibility: "followers" },
	{ author: "lucas", text: "Lunch and learn: objection handling, 12:30 in the big room. #sales" },
];

export const COMMENTS: { post: number; author: string; text: string }[] = [
	{ post: 0, author: "jonas", text: "Hi everyone! Glad to be here." },
	{ post: 0, author: "priya", text: "Hello from the support desk 👋" },
	{ post: 2, author: "maya", text: "Brilliant work, Aiko!" },
	{ post: 2, author: "lucas", text: "Patience and a good tea, I suspect." },
	{ post: 5, author: "priya", text: "Thank you, this fixes the duplicates I saw last week." },
	{ post: 6, author: "noah", text: "Love the second screen. Can we use it in the campaign?" },
	{ post: 6, author: "maya", text: "The illustrations are lovely." },
	{ post: 10, author: "jonas", text: "Numbers I can put in a sales deck. Thanks!" },
	{ post: 11, author: "lucas", text: "Team effort, thanks Jonas." },
	{ post: 13, author: "fatima", text: "Coral it is, then." },
];

export type LeadStatus = "new" | "contacted" | "qualified" | "won" | "lost";

export interface DemoLead {
	name: string;
	email: string;
	company: string;
	country: string;
	source: string;
	/** EUR cents */
	amount: number;
	status: LeadStatus;
	notes?: { type: "call" | "email" | "meeting" | "note"; summary: string }[];
}

export const LEADS: DemoLead[] = [
	{
		name: "Elena Petrova",
		email: "elena@brightline.example",
		company: "Brightline Logistics",
		country: "DE",
		source: "referral",
		amount: 1_250_000,
		status: "won",
		notes: [{ type: "meeting", summary: "Renewal meeting: two more warehouses from May." }],
	},
	{
		name: "Kenji Sato",
		email: "kenji@sakura-foods.example",
		company: "Sakura Foods",
		country: "JP",
		source: "event",
		amount: 480_000,
		status: "won",
		notes: [{ type: "call", summary: "Agreed on the pilot scope." }],
	},
	{
		name: "Sofia Rossi",
		email: "sofia@verde-arch.example",
		company: "Verde Architects",
		country: "IT",
		source: "seo",
		amount: 220_000,
		status: "won",
	},
	{
		name: "Liam O'Connor",
		email: "liam@harbourtech.example",
		company: "Harbour Tech",
		country: "IE",
		source: "ads",
		amount: 96_000,
		status: "won",
	},
	{
		name: "Amara Okafor",
		email: "amara@sunrise-health.example",
		company: "Sunrise Health",
		country: "NG",
		source: "referral",
		amount: 730_000,
		status: "won",
		notes: [{ type: "email", summary: "Sent the signed order form." }],
	},
	{
		name: "Henrik Larsen",
		email: "henrik@fjord-energy.example",
		company: "Fjord Energy",
		country: "NO",
		source: "event",
		amount: 540_000,
		status: "won",
	},
	{
		name: "Chloé Dubois",
		email: "chloe@atelier-lumiere.example",
		company: "Atelier Lumière",
		country: "FR",
		source: "seo",
		amount: 150_000,
		status: "qualified",
		notes: [{ type: "call", summary: "Wants a quote for 12 seats." }],
	},
	{
		name: "Mateo García",
		email: "mateo@andes-coffee.example",
		company: "Andes Coffee",
		country: "ES",
		source: "ads",
		amount: 85_000,
		status: "qualified",
	},
	{
		name: "Ingrid Nilsson",
		email: "ingrid@polar-retail.example",
		company: "Polar Retail",
		country: "SE",
		source: "referral",
		amount: 910_000,
		status: "qualified",
		notes: [{ type: "meeting", summary: "Demo with their IT team next week." }],
	},
	{
		name: "Rahul Mehta",
		email: "rahul@monsoon-media.example",
		company: "Monsoon Media",
		country: "IN",
		source: "web-form",
		amount: 64_000,
		status: "qualified",
	},
	{
		name: "Olivia Brown",
		email: "olivia@oakfield.example",
		company: "Oakfield Schools",
		country: "GB",
		source: "seo",
		amount: 120_000,
		status: "contacted",
	},
	{
		name: "Yusuf Demir",
		email: "yusuf@bosphorus-textiles.example",
		company: "Bosphorus Textiles",
		country: "TR",
		source: "event",
		amount: 330_000,
		status: "contacted",
		notes: [{ type: "email", summary: "Sent the product sheet." }],
	},
	{
		name: "Anna Kowalska",
		email: "anna@vistula-bank.example",
		company: "Vistula Bank",
		country: "PL",
		source: "ads",
		amount: 1_800_000,
		status: "contacted",
	},
	{
		name: "Diego Fernández",
		email: "diego@pampas-agro.example",
		company: "Pampas Agro",
		country: "AR",
		source: "referral",
		amount: 275_000,
		status: "contacted",
	},
	{
		name: "Mei Chen",
		email: "mei@jade-studio.example",
		company: "Jade Studio",
		country: "SG",
		source: "web-form",
		amount: 45_000,
		status: "contacted",
	},
	{ name: "Lars Jensen", email: "lars@nordlys.example", company: "Nordlys Design", country: "DK", source: "seo", amount: 70_000, status: "new" },
	{
		name: "Fatou Diop",
		email: "fatou@teranga-travel.example",
		company: "Teranga Travel",
		country: "SN",
		source: "ads",
		amount: 38_000,
		status: "new",
	},
	{
		name: "Pieter de Vries",
		email: "pieter@tulip-cargo.example",
		company: "Tulip Cargo",
		country: "NL",
		source: "event",
		amount: 620_000,
		status: "new",
	},
	{
		name: "Isabella Costa",
		email: "isabella@rio-fitness.example",
		company: "Rio Fitness",
		country: "BR",
		source: "web-form",
		amount: 52_000,
		status: "new",
	},
	{
		name: "Ahmed Hassan",
		email: "ahmed@nile-pharma.example",
		company: "Nile Pharma",
		country: "EG",
		source: "referral",
		amount: 1_100_000,
		status: "new",
	},
	{
		name: "Emma Schmidt",
		email: "emma@alpen-hotels.example",
		company: "Alpen Hotels",
		country: "AT",
		source: "seo",
		amount: 140_000,
		status: "new",
	},
	{
		name: "Carlos Ruiz",
		email: "carlos@sol-solar.example",
		company: "Sol Solar",
		country: "MX",
		source: "ads",
		amount: 260_000,
		status: "lost",
		notes: [{ type: "note", summary: "Chose a local vendor on price." }],
	},
	{
		name: "Nina Ivanova",
		email: "nina@baltic-games.example",
		company: "Baltic Games",
		country: "LV",
		source: "event",
		amount: 88_000,
		status: "lost",
	},
	{
		name: "George Miller",
		email: "george@maple-legal.example",
		company: "Maple Legal",
		country: "CA",
		source: "web-form",
		amount: 190_000,
		status: "lost",
	},
];

/** Assignment rules: big deals to the head of sales, the rest shared by the two account executives. */
export const RULES = [
	{
		name: "Enterprise deals to Jonas",
		priority: 10,
		strategy: "fixed",
		fixed: "jonas",
		conditions: { value: { currency: "EUR", min: 1_000_000 } },
	},
	{
		name: "Referrals and events, round robin",
		priority: 50,
		strategy: "round-robin",
		pool: ["aiko", "lucas"],
		conditions: { sources: ["referral", "event"] },
	},
	{ name: "Everything else, least loaded", priority: 100, strategy: "least-loaded", pool: ["aiko", "lucas", "jonas"], conditions: {} },
];

export const COMMISSION_PLAN = {
	name: "Sales commission 2026",
	type: "percentage",
	rateBps: 800,
	currency: "EUR",
	effectiveFrom: "2026-01-01T00:00:00.000Z",
};
export const PLAN_MEMBERS = ["jonas", "aiko", "lucas"];

/** Messaging: one WhatsApp Business number, five customers writing in. Offsets are minutes before the run. */
export const META_APP = { name: "Northwind WhatsApp", appId: "100200300400500", phoneNumberId: "109876543210001" };

export const CONVERSATIONS: {
	waId: string;
	name: string;
	messages: { text: string; minutesAgo: number }[];
	then?: { assign?: string; status?: "pending" | "closed"; read?: boolean };
}[] = [
	{
		waId: "4915112345001",
		name: "Elena Petrova",
		messages: [
			{ text: "Hi! Is the warehouse add-on available from May?", minutesAgo: 180 },
			{ text: "We would need it for two sites.", minutesAgo: 178 },
		],
		then: { assign: "priya" },
	},
	{
		waId: "819012345002",
		name: "Kenji Sato",
		messages: [
			{ text: "Good morning, our invoice INV shows the wrong address.", minutesAgo: 240 },
			{ text: "It should be Namba, not Umeda.", minutesAgo: 239 },
			{ text: "Thank you!", minutesAgo: 120 },
		],
		then: { assign: "priya", status: "pending" },
	},
	{
		waId: "393401234503",
		name: "Sofia Rossi",
		messages: [{ text: "Can I add two more colleagues to our plan?", minutesAgo: 600 }],
		then: { status: "closed" },
	},
	{
		waId: "353871234504",
		name: "Liam O'Connor",
		messages: [
			{ text: "Hello, do you offer a discount for annual billing?", minutesAgo: 45 },
			{ text: "We are a team of 14.", minutesAgo: 44 },
		],
		then: { assign: "lucas", read: true },
	},
	{
		waId: "2348031234505",
		name: "Amara Okafor",
		messages: [{ text: "Just wanted to say the onboarding call was great 🙌", minutesAgo: 15 }],
	},
];

export const MESSAGE_TEMPLATE = {
	name: "order-follow-up",
	variables: ["order.id"],
	text: "Hi {{ customer.name }}, your order {{ order.id }} is on its way. Reply here if anything is missing.",
};

/** Tasks of the spring campaign: `after` are the titles that block it; `done` ones are completed (xp, coins, badges). */
export interface DemoTask {
	title: string;
	description: string;
	assignee: string;
	priority: "low" | "medium" | "high" | "urgent";
	estimateMinutes: number;
	dueAt: string;
	tags: string[];
	after?: string[];
	status: "todo" | "doing" | "done";
	/** later edits, each a new version */
	edits?: Record<string, unknown>[];
}

export const TASKS: DemoTask[] = [
	{
		title: "Write the campaign brief",
		description: "Goals, audience and budget on one page.",
		assignee: "noah",
		priority: "high",
		estimateMinutes: 120,
		dueAt: "2027-03-01T17:00:00.000Z",
		tags: ["campaign"],
		status: "done",
		edits: [{ description: "Goals, audience, budget and timeline on one page." }],
	},
	{
		title: "Pick the colour palette",
		description: "Three colours that work on print and screen.",
		assignee: "fatima",
		priority: "medium",
		estimateMinutes: 90,
		dueAt: "2027-03-03T17:00:00.000Z",
		tags: ["campaign", "design"],
		after: ["Write the campaign brief"],
		status: "done",
	},
	{
		title: "Design the landing page",
		description: "Hero, three benefits, the sign-up form.",
		assignee: "fatima",
		priority: "high",
		estimateMinutes: 480,
		dueAt: "2027-03-10T17:00:00.000Z",
		tags: ["campaign", "design"],
		after: ["Pick the colour palette"],
		status: "done",
		edits: [{ priority: "urgent" }],
	},
	{
		title: "Build the sign-up form",
		description: "Posts to the CRM web-form endpoint with an ingest key.",
		assignee: "tomas",
		priority: "high",
		estimateMinutes: 240,
		dueAt: "2027-03-12T17:00:00.000Z",
		tags: ["campaign", "engineering"],
		after: ["Design the landing page"],
		status: "done",
	},
	{
		title: "Set up lead assignment rules",
		description: "Referrals round robin, enterprise deals to Jonas.",
		assignee: "jonas",
		priority: "medium",
		estimateMinutes: 60,
		dueAt: "2027-03-12T17:00:00.000Z",
		tags: ["crm"],
		status: "done",
	},
	{
		title: "Record the podcast teaser",
		description: "Ninety seconds, three voices.",
		assignee: "noah",
		priority: "low",
		estimateMinutes: 120,
		dueAt: "2027-03-14T17:00:00.000Z",
		tags: ["campaign"],
		after: ["Write the campaign brief"],
		status: "done",
	},
	{
		title: "Load-test the landing page",
		description: "2,000 visitors a minute without a hiccup.",
		assignee: "tomas",
		priority: "medium",
		estimateMinutes: 180,
		dueAt: "2027-03-15T17:00:00.000Z",
		tags: ["engineering"],
		after: ["Build the sign-up form"],
		status: "doing",
	},
	{
		title: "Write the launch e-mail",
		description: "Subject line, two paragraphs, one button.",
		assignee: "noah",
		priority: "medium",
		estimateMinutes: 90,
		dueAt: "2027-03-16T17:00:00.000Z",
		tags: ["campaign"],
		after: ["Design the landing page"],
		status: "doing",
		edits: [{ estimateMinutes: 120 }],
	},
	{
		title: "Train support on the new offer",
		description: "FAQ and WhatsApp template for the launch week.",
		assignee: "priya",
		priority: "medium",
		estimateMinutes: 60,
		dueAt: "2027-03-17T17:00:00.000Z",
		tags: ["support"],
		after: ["Write the launch e-mail"],
		status: "todo",
	},
	{
		title: "Launch the campaign",
		description: "Flip the switch, watch the pipeline.",
		assignee: "maya",
		priority: "urgent",
		estimateMinutes: 30,
		dueAt: "2027-03-20T09:00:00.000Z",
		tags: ["campaign"],
		after: ["Load-test the landing page", "Write the launch e-mail", "Train support on the new offer"],
		status: "todo",
	},
	{
		title: "Plan the Q2 sales kickoff",
		description: "Agenda, venue, and one guest speaker.",
		assignee: "jonas",
		priority: "low",
		estimateMinutes: 120,
		dueAt: "2027-04-01T17:00:00.000Z",
		tags: ["sales"],
		status: "todo",
	},
	{
		title: "Follow up with Polar Retail",
		description: "Send the security questionnaire back.",
		assignee: "aiko",
		priority: "high",
		estimateMinutes: 45,
		dueAt: "2027-03-05T17:00:00.000Z",
		tags: ["sales"],
		status: "done",
	},
];

export const SKILLS = [
	{
		key: "focus",
		name: "Focus",
		description: "Deep work blocks in your calendar.",
		cost: { currency: "coins", amount: 5 },
		prerequisites: [] as string[],
	},
	{
		key: "mentoring",
		name: "Mentoring",
		description: "Pair with a newcomer for a week.",
		cost: { currency: "coins", amount: 10 },
		prerequisites: ["focus"],
	},
	{
		key: "public-speaking",
		name: "Public speaking",
		description: "Present at demo day.",
		cost: { currency: "coins", amount: 15 },
		prerequisites: ["focus"],
	},
];
export const SKILL_UNLOCKS: { user: string; skill: string }[] = [
	{ user: "fatima", skill: "focus" },
	{ user: "noah", skill: "focus" },
];

export const BOARD = { key: "table-tennis", name: "Table tennis ladder", k: 32 };
/** Results of the board (1 = A won); applied once each by eventId. */
export const MATCHES: [string, string, 1 | 0.5 | 0][] = [
	["tomas", "lucas", 1],
	["aiko", "jonas", 1],
	["fatima", "noah", 0.5],
	["maya", "tomas", 0],
	["priya", "aiko", 1],
	["lucas", "noah", 1],
	["jonas", "fatima", 0],
	["tomas", "priya", 1],
];

/** Invoices to won customers. `paid` ones get a sandbox card payment; `refund` (cents) is given back after. */
export const INVOICES: {
	customer: string;
	lines: { description: string; quantity: number; unitPrice: number; taxRate?: string }[];
	dueDate: string;
	status: "draft" | "open" | "paid";
	refund?: number;
	discountPercent?: string;
}[] = [
	{
		customer: "Brightline Logistics",
		lines: [
			{ description: "Valence Business, 25 seats, annual", quantity: 25, unitPrice: 36_000, taxRate: "19" },
			{ description: "Onboarding workshop", quantity: 1, unitPrice: 150_000, taxRate: "19" },
		],
		dueDate: "2027-02-15",
		status: "paid",
		discountPercent: "10",
	},
	{
		customer: "Sakura Foods",
		lines: [{ description: "Valence Team, 10 seats, annual", quantity: 10, unitPrice: 24_000, taxRate: "10" }],
		dueDate: "2027-02-28",
		status: "paid",
	},
	{
		customer: "Verde Architects",
		lines: [
			{ description: "Valence Team, 6 seats, annual", quantity: 6, unitPrice: 24_000, taxRate: "22" },
			{ description: "Data import", quantity: 1, unitPrice: 40_000, taxRate: "22" },
		],
		dueDate: "2027-03-15",
		status: "paid",
		refund: 20_000,
	},
	{
		customer: "Sunrise Health",
		lines: [{ description: "Valence Business, 40 seats, annual", quantity: 40, unitPrice: 36_000, taxRate: "7.5" }],
		dueDate: "2027-03-31",
		status: "open",
	},
	{
		customer: "Fjord Energy",
		lines: [{ description: "Valence Business, 15 seats, annual", quantity: 15, unitPrice: 36_000, taxRate: "25" }],
		dueDate: "2027-04-15",
		status: "open",
	},
	{
		customer: "Harbour Tech",
		lines: [{ description: "Valence Team, 14 seats, annual", quantity: 14, unitPrice: 24_000, taxRate: "23" }],
		dueDate: "2027-04-30",
		status: "draft",
	},
];

/** Who follows whom and who likes which post: drawn once from the seeded PRNG. */
export function draws() {
	const rnd = prng(SEED);
	const keys = USERS.map(u => u.key);
	const follows: [string, string][] = [];
	for (const a of keys) for (const b of keys) if (a !== b && (b === "maya" || rnd() < 0.45)) follows.push([a, b]);
	const likes: [number, string][] = [];
	POSTS.forEach((post, i) => {
		for (const k of keys) if (k !== post.author && rnd() < 0.5) likes.push([i, k]);
	});
	return { follows, likes };
}
