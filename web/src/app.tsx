/**
 * The app shell: sign-in screens while signed out; signed in, a header (organisation switcher, account,
 * sign out), the menu built from the nav registry (./nav.tsx) and the current screen. Keyboard: a skip
 * link first, the menu in tab order, focus moved to the screen's main region on every navigation.
 */
import type { ComponentType } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { asProblem, type ApiProblem } from "./api";
import { Loading } from "./components/loading";
import { ProblemBanner } from "./components/problem-banner";
import { entryOf, HOME, NAV, type NavEntry, type ScreenProps } from "./nav";
import { href, navigate, useRoute, type Route } from "./router";
import { ForgotPassword, OAuthCallback, Register, ResetPassword, SignIn } from "./screens/auth/auth";
import { NotificationBell } from "./screens/notifications/bell";
import { currentTenant, signOut, switchTenant, useSession, type SignedIn } from "./session";

/** Routes anyone may open, signed in or not. */
const PUBLIC: Record<string, ComponentType<{ route: Route }>> = {
	"/signin": SignIn,
	"/register": Register,
	"/forgot": ForgotPassword,
	"/reset": ResetPassword,
	"/oauth/callback": OAuthCallback,
};

export function App() {
	const route = useRoute();
	const session = useSession();
	const Public = PUBLIC[route.path];

	useEffect(() => {
		document.title = `${titleOf(route)} · Valence`;
	}, [route.path]);

	if (session.status === "loading") return <Loading label="Opening your session…" />;
	if (Public && !(session.status === "signedIn" && (route.path === "/signin" || route.path === "/register")))
		return (
			<AuthLayout>
				<Public route={route} />
			</AuthLayout>
		);
	if (session.status === "signedOut") {
		// remember where the reader wanted to go, and sign in first
		const query: Record<string, string> = {};
		if (route.path !== "/") query.next = route.query.size ? `${route.path}?${route.query}` : route.path;
		if (session.reason && session.reason !== "signed-out") query.reason = session.reason;
		return <Redirect to="/signin" query={query} />;
	}
	if (route.path === "/" || route.path === "/signin" || route.path === "/register") {
		// signed in (or just now): on to where the reader was going, only ever an app route
		const next = route.query.get("next") ?? "";
		const [nextPath, nextQuery] = next.split("?", 2);
		if (nextPath.startsWith("/") && !nextPath.startsWith("//") && entryOf(nextPath))
			return <Redirect to={nextPath} query={nextQuery ? Object.fromEntries(new URLSearchParams(nextQuery)) : undefined} />;
		return <Redirect to={HOME} />;
	}
	return <Shell route={route} session={session} />;
}

/** Navigates once rendered (never during a render). */
function Redirect({ to, query }: { to: string; query?: Record<string, string> }) {
	useEffect(() => navigate(to, { replace: true, query }), [to]);
	return null;
}

function titleOf(route: Route): string {
	const titles: Record<string, string> = {
		"/signin": "Sign in",
		"/register": "Create an account",
		"/forgot": "Forgot password",
		"/reset": "New password",
		"/oauth/callback": "Signing in",
	};
	return titles[route.path] ?? entryOf(route.path)?.label ?? "Valence";
}

function AuthLayout({ children }: { children: preact.ComponentChildren }) {
	return (
		<div class="auth-layout">
			<main id="main" class="auth-card">
				<p class="brand" aria-hidden="true">
					Valence
				</p>
				{children}
			</main>
		</div>
	);
}

function Shell({ route, session }: { route: Route; session: SignedIn }) {
	const entry = entryOf(route.path);
	const main = useRef<HTMLElement>(null);
	const first = useRef(true);
	useEffect(() => {
		// after a navigation, start reading (and tabbing) at the new screen, not at the menu again
		if (first.current) first.current = false;
		else main.current?.focus();
	}, [route.path]);
	const visible = NAV.filter(e => e.menu !== false && (!e.visible || e.visible(session)));
	const groups = [...new Set(visible.map(e => e.group))];
	return (
		<div class="shell">
			<a class="skip-link" href="#main" onClick={e => (e.preventDefault(), main.current?.focus())}>
				Skip to content
			</a>
			<header class="topbar">
				<a class="brand" href={href(HOME)}>
					Valence
				</a>
				<TenantSwitcher session={session} />
				{/* the notification bell (web/src/screens/notifications): its socket is remade for each organisation, whose notifications it shows */}
				<NotificationBell key={session.tenantId ?? "none"} current={route.path === "/notifications"} />
				<div class="account">
					<span class="who" title={session.user.email}>
						{session.user.name ?? session.user.email}
					</span>
					<button type="button" class="secondary" onClick={() => void signOut()}>
						Sign out
					</button>
				</div>
			</header>
			<nav class="sidebar" aria-label="Main">
				{groups.map(g => (
					<section key={g} aria-labelledby={`nav-${g}`}>
						<h2 id={`nav-${g}`}>{g}</h2>
						<ul>
							{visible
								.filter(e => e.group === g)
								.map(e => (
									<li key={e.path}>
										<a href={href(e.path)} aria-current={entry?.path === e.path ? "page" : undefined}>
											{e.label}
										</a>
									</li>
								))}
						</ul>
					</section>
				))}
			</nav>
			<main id="main" ref={main} tabIndex={-1} class="content">
				<Screen entry={entry} route={route} session={session} />
			</main>
		</div>
	);
}

function Screen({ entry, route, session }: { entry: NavEntry | undefined; route: Route; session: SignedIn }) {
	if (!entry)
		return (
			<>
				<h1>Not found</h1>
				<p>
					There is no screen at this address. <a href={href(HOME)}>Go to the start page</a>.
				</p>
			</>
		);
	if (entry.visible && !entry.visible(session))
		return (
			<>
				<h1>{entry.label}</h1>
				<p>This screen is for the owners and administrators of an organisation. Switch to an organisation where you have that role.</p>
			</>
		);
	if (entry.tenant && !session.tenantId)
		return (
			<>
				<h1>{entry.label}</h1>
				<p>
					Choose an organisation first, with the switcher at the top, or <a href={href("/account/tenants")}>create one</a>.
				</p>
			</>
		);
	// a screen is mounted afresh per tenant: nothing of another tenant's data stays on screen
	return (
		<Lazy
			key={entry.remountOnTenant === false ? entry.path : `${entry.path}:${session.tenantId}`}
			entry={entry}
			route={route}
			session={session}
		/>
	);
}

const loaded = new Map<NavEntry, ComponentType<ScreenProps>>();

function Lazy({ entry, ...props }: ScreenProps & { entry: NavEntry }) {
	const [Component, setComponent] = useState<ComponentType<ScreenProps> | undefined>(() => loaded.get(entry));
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	useEffect(() => {
		if (Component) return;
		entry.load().then(
			m => {
				loaded.set(entry, m.default);
				setComponent(() => m.default);
			},
			e => setProblem(asProblem(e)),
		);
	}, [entry]);
	if (problem) return <ProblemBanner problem={problem} />;
	if (!Component) return <Loading />;
	return <Component {...props} />;
}

function TenantSwitcher({ session }: { session: SignedIn }) {
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [busy, setBusy] = useState(false);
	const current = currentTenant(session);
	if (session.tenants.length === 0)
		return (
			<a class="tenant-empty" href={href("/account/tenants")}>
				Create an organisation
			</a>
		);
	return (
		<div class="tenant-switcher">
			<label for="tenant-switcher">Organisation</label>
			<select
				id="tenant-switcher"
				value={current?.id ?? ""}
				disabled={busy}
				onChange={async e => {
					const id = (e.currentTarget as HTMLSelectElement).value;
					if (!id) return;
					setBusy(true);
					setProblem(null);
					await switchTenant(id).catch(err => setProblem(asProblem(err)));
					setBusy(false);
				}}
			>
				{current ? null : <option value="">Choose…</option>}
				{session.tenants.map(t => (
					<option key={t.id} value={t.id}>
						{t.name} ({t.role})
					</option>
				))}
			</select>
			<ProblemBanner problem={problem} />
		</div>
	);
}
