/**
 * English and French (the seed's city is Paris). The language comes from the browser, can be switched,
 * and the choice is kept in localStorage. Views read strings through `t()` and re-render on change.
 */
export const LANGS = ['en', 'fr'] as const;
export type Lang = (typeof LANGS)[number];

const en = {
  title: 'CityFlow — live traffic',
  signIn: 'Sign in',
  signOut: 'Sign out',
  email: 'Email',
  password: 'Password',
  wrongPassword: 'Wrong email or password.',
  sessionEnded: 'Your session has ended, sign in again.',
  sessionExpired: 'Your session expired, sign in again.',
  loginFailed: 'Sign-in failed: {msg}',
  language: 'Language',
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting in {s} s…',
  stale: 'Stale: no new data for {s} s',
  dataTime: 'Data time',
  view: 'Map shows',
  viewLive: 'Live',
  viewT15: 'Forecast T+15',
  viewT30: 'Forecast T+30',
  viewT60: 'Forecast T+60',
  history: 'History',
  historyAt: 'History at {t}',
  backToLive: 'Back to live',
  historyLoading: 'Loading history…',
  legend: 'Legend',
  lvlFree: 'fluid (score < 0.3)',
  lvlSlow: 'slow (0.3–0.5)',
  lvlJam: 'congested (≥ 0.5)',
  lvlNone: 'no data',
  levelfree: 'fluid',
  levelslow: 'slow',
  leveljam: 'congested',
  levelnone: 'no data',
  incident: 'incident',
  agentOnline: 'agent online',
  agentOffline: 'agent offline',
  reroutePath: 'selected alternative',
  basemapOff: 'No basemap (tiles unreachable or disabled): roads on a plain background.',
  roadSearch: 'Find a road',
  selectedRoad: 'Selected road',
  selectRoadHint: 'Select a road on the map or in the lists.',
  speed: 'Speed',
  flow: 'Flow',
  occupancy: 'Occupancy',
  score: 'Score',
  sensors: 'Sensors',
  agent: 'Agent',
  model: 'Forecast model',
  chartTitle: 'Speed, last {h} h and forecast',
  chartSummary: '{n} {n:bucket|buckets} of history, latest {v}; {f} forecast {f:point|points}, model {m}.',
  chartNoData: 'No history for this road yet.',
  actual: 'measured',
  forecast: 'forecast',
  interval: 'forecast interval',
  congestedLine: 'congested below',
  now: 'now',
  close: 'Close',
  busiest: 'Most congested now',
  reroutes: 'Recommended reroutes',
  noReroutes: 'None right now.',
  congestedRoad: 'Congested road',
  alternative: 'Alternative',
  etaGain: 'ETA gain',
  co2Gain: 'CO₂ gain',
  diverted: 'Diverted',
  validUntil: 'Valid until',
  showPath: 'Path',
  showPathTitle: 'Draw this alternative on the map (press again to hide it)',
  incidentFlag: 'incident',
  agents: 'Intersection agents',
  agentsSummary: '{on} of {all} online',
  status: 'Status',
  online: 'online',
  offline: 'offline',
  lastSeen: 'Last seen',
  backlog: 'Backlog',
  clockSkew: 'Clock skew',
  version: 'Version',
  alarms: 'Alarms',
  actions: 'Actions',
  sortBy: 'Sort by {c}',
  addAgent: 'Add agent',
  agentId: 'Agent id',
  create: 'Create',
  rotate: 'Rotate credentials',
  diagnostics: 'Request diagnostics',
  credentialsOnce: 'Credentials for {id} (shown once): user {u}, password {p}',
  diagResult: 'Diagnostics from {id}: {n} {n:record|records}.',
  actionFailed: 'Failed: {msg}',
  kpis: 'City KPIs',
  kpiLatency: 'Ingest latency',
  kpiRate: 'Messages/s',
  kpiErrors: 'Error rate',
  kpiCongestion: 'Mean forecast congestion',
  kpiCo2: 'Estimated CO₂ gain',
  kpiAgents: 'Agents online',
  incidents: 'Active incidents',
  noIncidents: 'No active incident.',
  since: 'since {t}',
  incidentOn: 'Incident on {road} since {t}: {reason}',
  mapLabel: 'Road map: arrow keys move between roads, Enter opens the focused road',
  mapFocus: '{road}, {level}',
  mapKeys:
    'Enter: open · arrows: next road · Page Down/Up: every road on screen · +/−: zoom · Shift+arrows: pan',
  incidentHere: 'Incident since {t} ({c} % confidence): {reason}',
  role: 'Role: {r}',
};
export type MessageKey = keyof typeof en;

const fr: Record<MessageKey, string> = {
  title: 'CityFlow — trafic en direct',
  signIn: 'Se connecter',
  signOut: 'Se déconnecter',
  email: 'E-mail',
  password: 'Mot de passe',
  wrongPassword: 'E-mail ou mot de passe incorrect.',
  sessionEnded: 'Votre session est terminée, reconnectez-vous.',
  sessionExpired: 'Votre session a expiré, reconnectez-vous.',
  loginFailed: 'Échec de la connexion : {msg}',
  language: 'Langue',
  live: 'En direct',
  connecting: 'Connexion…',
  reconnecting: 'Reconnexion dans {s} s…',
  stale: 'Données figées : rien de nouveau depuis {s} s',
  dataTime: 'Heure des données',
  view: 'La carte montre',
  viewLive: 'Direct',
  viewT15: 'Prévision T+15',
  viewT30: 'Prévision T+30',
  viewT60: 'Prévision T+60',
  history: 'Historique',
  historyAt: 'Historique à {t}',
  backToLive: 'Retour au direct',
  historyLoading: 'Chargement de l’historique…',
  legend: 'Légende',
  lvlFree: 'fluide (score < 0,3)',
  lvlSlow: 'ralenti (0,3–0,5)',
  lvlJam: 'congestionné (≥ 0,5)',
  lvlNone: 'pas de données',
  levelfree: 'fluide',
  levelslow: 'ralenti',
  leveljam: 'congestionné',
  levelnone: 'pas de données',
  incident: 'incident',
  agentOnline: 'agent en ligne',
  agentOffline: 'agent hors ligne',
  reroutePath: 'itinéraire choisi',
  basemapOff: 'Pas de fond de carte (tuiles injoignables ou désactivées) : routes sur fond uni.',
  roadSearch: 'Chercher une route',
  selectedRoad: 'Route sélectionnée',
  selectRoadHint: 'Choisissez une route sur la carte ou dans les listes.',
  speed: 'Vitesse',
  flow: 'Débit',
  occupancy: 'Occupation',
  score: 'Score',
  sensors: 'Capteurs',
  agent: 'Agent',
  model: 'Modèle de prévision',
  chartTitle: 'Vitesse, dernières {h} h et prévision',
  chartSummary:
    '{n} {n:intervalle|intervalles} d’historique, dernier {v} ; {f} {f:point|points} de prévision, modèle {m}.',
  chartNoData: 'Pas encore d’historique pour cette route.',
  actual: 'mesuré',
  forecast: 'prévision',
  interval: 'intervalle de prévision',
  congestedLine: 'congestion en dessous de',
  now: 'maintenant',
  close: 'Fermer',
  busiest: 'Les plus congestionnées',
  reroutes: 'Déviations recommandées',
  noReroutes: 'Aucune pour l’instant.',
  congestedRoad: 'Route congestionnée',
  alternative: 'Alternative',
  etaGain: 'Gain de temps',
  co2Gain: 'Gain CO₂',
  diverted: 'Part déviée',
  validUntil: 'Valable jusqu’à',
  showPath: 'Tracé',
  showPathTitle: 'Tracer cette alternative sur la carte (appuyer de nouveau pour la masquer)',
  incidentFlag: 'incident',
  agents: 'Agents des carrefours',
  agentsSummary: '{on} sur {all} en ligne',
  status: 'État',
  online: 'en ligne',
  offline: 'hors ligne',
  lastSeen: 'Vu pour la dernière fois',
  backlog: 'En attente',
  clockSkew: 'Décalage d’horloge',
  version: 'Version',
  alarms: 'Alarmes',
  actions: 'Actions',
  sortBy: 'Trier par {c}',
  addAgent: 'Ajouter un agent',
  agentId: 'Identifiant de l’agent',
  create: 'Créer',
  rotate: 'Renouveler les identifiants',
  diagnostics: 'Demander un diagnostic',
  credentialsOnce: 'Identifiants de {id} (affichés une seule fois) : utilisateur {u}, mot de passe {p}',
  diagResult: 'Diagnostic de {id} : {n} {n:enregistrement|enregistrements}.',
  actionFailed: 'Échec : {msg}',
  kpis: 'Indicateurs de la ville',
  kpiLatency: 'Latence d’ingestion',
  kpiRate: 'Messages/s',
  kpiErrors: 'Taux d’erreur',
  kpiCongestion: 'Congestion prévue moyenne',
  kpiCo2: 'Gain CO₂ estimé',
  kpiAgents: 'Agents en ligne',
  incidents: 'Incidents en cours',
  noIncidents: 'Aucun incident en cours.',
  since: 'depuis {t}',
  incidentOn: 'Incident sur {road} depuis {t} : {reason}',
  mapLabel: 'Carte des voies : les flèches passent d’une voie à l’autre, Entrée ouvre la voie choisie',
  mapFocus: '{road}, {level}',
  mapKeys:
    'Entrée : ouvrir · flèches : voie suivante · Page suiv./préc. : toutes les voies à l’écran · +/− : zoom · Maj+flèches : déplacer',
  incidentHere: 'Incident depuis {t} (confiance {c} %) : {reason}',
  role: 'Rôle : {r}',
};

const DICTS: Record<Lang, Record<MessageKey, string>> = { en, fr };
/** Formatting locales: British English for 24-hour times an operator reads at a glance. */
const LOCALE: Record<Lang, string> = { en: 'en-GB', fr: 'fr-FR' };
const PLURALS: Record<Lang, Intl.PluralRules> = {
  en: new Intl.PluralRules(LOCALE.en),
  fr: new Intl.PluralRules(LOCALE.fr),
};
const STORAGE_KEY = 'cityflow.lang';

export function browserLang(languages: readonly string[]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'fr' || base === 'en') return base;
  }
  return 'en';
}

let current: Lang = 'en';
const listeners = new Set<() => void>();

export function initLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  current =
    saved === 'fr' || saved === 'en' ? saved : browserLang(navigator.languages ?? [navigator.language]);
  document.documentElement.lang = current;
  return current;
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
  for (const f of listeners) f();
}

export function onLangChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/**
 * A message of `language` with its `{param}`s filled in; `{n:one|other}` picks the word by the
 * language's plural rule for the number `n` (French: 0 and 1 are singular, English: only 1).
 */
export function format(
  language: Lang,
  key: MessageKey,
  params: Record<string, string | number> = {},
): string {
  const plural = PLURALS[language];
  return DICTS[language][key]
    .replace(/\{(\w+):([^|}]*)\|([^}]*)\}/g, (_, k: string, one: string, other: string) =>
      plural.select(Number(params[k])) === 'one' ? one : other,
    )
    .replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? `{${k}}`));
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return format(current, key, params);
}

/** Numbers and times in the current language (French uses a decimal comma). */
export function num(v: number | null | undefined, digits = 1): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  return v.toLocaleString(LOCALE[current], { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function timeOf(ms: number | string | null | undefined, withDate = false): string {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString(LOCALE[current], {
    ...(withDate ? { day: '2-digit', month: 'short' } : {}),
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZone: 'UTC',
    timeZoneName: 'short',
  });
}

/** Applies `data-i18n` (text) and `data-i18n-label` (aria-label) attributes under `root`. */
export function translateStatic(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]'))
    el.textContent = t(el.dataset.i18n as MessageKey);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-label]'))
    el.setAttribute('aria-label', t(el.dataset.i18nLabel as MessageKey));
}
