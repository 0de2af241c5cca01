/**
 * The navigation registry: every screen of the app is one entry here (README, "Web app" → "Adding a
 * domain screen"). The shell builds the menu and the routes from this list; nothing else needs editing.
 *
 * Convention: a domain's screens live in `web/src/screens/<domain>/` (auth, account, console today;
 * messaging, crm, social, tasks, commerce next), each a component taking `ScreenProps`, loaded lazily
 * (`load: () => import("./screens/crm/leads")`: its code is fetched on first visit, so uPlot or a board
 * library is paid only by the screens that use it). An entry says who sees it (`visible`) and whether it
 * needs a tenant-scoped token (`tenant: true`: without one the shell asks to choose an organisation
 * instead of calling the API for a `403 TENANT_REQUIRED`). Paths are unique; `/console/...` sub-paths
 * belong to the entry `/console` (the longest matching entry path wins).
 *
 * Add a screen:
 *   { path: "/crm/leads", label: "Leads", group: "Workspace", tenant: true, load: () => import("./screens/crm/leads") },
 */
import type { ComponentType } from "preact";
import type { Route } from "./router";
import { isAdmin, type SessionState, type SignedIn } from "./session";

export interface ScreenProps {
	route: Route;
	session: SignedIn;
}

export interface NavEntry {
	path: string;
	label: string;
	/** the menu section */
	group: "Workspace" | "Account" | "Operations";
	/** the screen module (its default export), loaded on first visit */
	load(): Promise<{ default: ComponentType<ScreenProps> }>;
	/** needs a token scoped to a tenant */
	tenant?: boolean;
	/** who sees it in the menu and may open it (default: everyone signed in) */
	visible?(s: SessionState): boolean;
	/** shown in the menu (default true); false for detail routes reached from another screen */
	menu?: boolean;
	/**
	 * false: keep the screen mounted when the organisation changes. By default a screen is mounted afresh
	 * for each organisation, so nothing of another tenant's data stays on screen.
	 */
	remountOnTenant?: boolean;
}

export const NAV: NavEntry[] = [
	{ path: "/account/tenants", label: "Organisations", group: "Account", remountOnTenant: false, load: () => import("./screens/account/tenants") },
	{ path: "/account/sessions", label: "Sessions", group: "Account", load: () => import("./screens/account/sessions") },
	{
		path: "/console",
		label: "Operator console",
		group: "Operations",
		tenant: true,
		visible: isAdmin,
		load: () => import("./screens/console/console"),
	},
	// Messaging and CRM screens (web/src/screens/messaging, web/src/screens/crm)
	{ path: "/messaging", label: "Inbox", group: "Workspace", tenant: true, load: () => import("./screens/messaging/inbox") },
	{ path: "/crm/leads", label: "Leads", group: "Workspace", tenant: true, load: () => import("./screens/crm/leads") },
	{ path: "/crm/lead", label: "Lead", group: "Workspace", tenant: true, menu: false, load: () => import("./screens/crm/lead") },
	{ path: "/crm/pipeline", label: "Pipeline", group: "Workspace", tenant: true, visible: isAdmin, load: () => import("./screens/crm/pipeline") },
	{ path: "/crm/rules", label: "Assignment rules", group: "Workspace", tenant: true, visible: isAdmin, load: () => import("./screens/crm/rules") },
	{ path: "/crm/commission", label: "Commission", group: "Workspace", tenant: true, load: () => import("./screens/crm/commission") },
	// end of Messaging and CRM screens
	// --- Social, Tasks and engagement, Commerce (web/src/screens/{social,tasks,commerce}) ---
	{ path: "/social/feed", label: "Feed", group: "Workspace", load: () => import("./screens/social/feed") },
	{ path: "/social/explore", label: "Explore", group: "Workspace", load: () => import("./screens/social/explore") },
	{ path: "/social/people", label: "People", group: "Workspace", load: () => import("./screens/social/people") },
	{ path: "/tasks", label: "Tasks", group: "Workspace", tenant: true, load: () => import("./screens/tasks/tasks") },
	{ path: "/engagement/wallet", label: "Wallet and level", group: "Workspace", tenant: true, load: () => import("./screens/tasks/wallet") },
	{ path: "/engagement/leaderboard", label: "Leaderboard", group: "Workspace", tenant: true, load: () => import("./screens/tasks/leaderboard") },
	{ path: "/engagement/skills", label: "Skill tree", group: "Workspace", tenant: true, load: () => import("./screens/tasks/skills") },
	{ path: "/commerce/invoices", label: "Invoices", group: "Workspace", tenant: true, load: () => import("./screens/commerce/invoices") },
	{ path: "/commerce/payments", label: "Payments", group: "Workspace", tenant: true, load: () => import("./screens/commerce/payments") },
	// --- end of Social, Tasks and engagement, Commerce ---
	// Analytics screens (web/src/screens/analytics)
	{ path: "/analytics/dashboards", label: "Dashboards", group: "Workspace", tenant: true, load: () => import("./screens/analytics/dashboards") },
	{
		path: "/analytics/dashboard",
		label: "Dashboard",
		group: "Workspace",
		tenant: true,
		menu: false,
		load: () => import("./screens/analytics/dashboard"),
	},
	{ path: "/analytics/reports", label: "Reports", group: "Workspace", tenant: true, load: () => import("./screens/analytics/reports") },
	{ path: "/analytics/forecast", label: "Forecast", group: "Workspace", tenant: true, load: () => import("./screens/analytics/forecast") },
	// end of Analytics screens
	// Notification screens (web/src/screens/notifications; the bell in the top bar is app.tsx's)
	{ path: "/notifications", label: "Notifications", group: "Account", load: () => import("./screens/notifications/list") },
	{
		path: "/notifications/preferences",
		label: "Notification settings",
		group: "Account",
		load: () => import("./screens/notifications/preferences"),
	},
	// end of Notification screens
];

/** Where a signed-in user lands: the first entry they may see. */
export const HOME = "/account/tenants";

/** The entry a path belongs to (the longest entry path that is the path or a prefix of it at a `/`). */
export function entryOf(path: string): NavEntry | undefined {
	return NAV.filter(e => path === e.path || path.startsWith(`${e.path}/`)).sort((a, b) => b.path.length - a.path.length)[0];
}
