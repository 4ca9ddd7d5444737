/**
 * The stylesheet of the page at `/`, served as /assets/app.css (the page's policy allows no inline
 * styles). Phone first: one column, touch-sized controls; wider screens put the actions beside the
 * channel. Light and dark follow the system.
 */
export const APP_CSS = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #16181d; --muted: #5b6270; --card: #ffffff; --line: #d9dde4;
  --accent: #0b57d0; --accent-fg: #ffffff; --focus: #e8710a; --error: #b3261e; --ok: #1e7b34;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 100%; line-height: 1.4; background: var(--bg); color: var(--fg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317; --fg: #e8eaee; --muted: #a3aab6; --card: #1b1e24; --line: #323742;
    --accent: #8ab4f8; --accent-fg: #0b1a33; --focus: #fbbc04; --error: #f2b8b5; --ok: #8fd19e;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0 auto; max-width: 64rem; padding: 0 0.75rem 4rem; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.4rem; color: var(--muted); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip { position: absolute; left: -999px; top: 0.5rem; background: var(--card); padding: 0.5rem; }
.skip:focus { left: 0.5rem; z-index: 2; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 0.5rem; padding: 0.9rem 0 0.25rem; }
.top nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; font-size: 0.9rem; }
.version { font-size: 0.8rem; font-weight: normal; color: var(--muted); }
.muted { color: var(--muted); margin: 0.25rem 0; }
button, .action {
  font: inherit; font-size: 0.9rem; min-height: 2.5rem; min-width: 2.5rem; padding: 0.35rem 0.75rem;
  border-radius: 0.4rem; border: 1px solid var(--line); background: var(--card); color: var(--fg);
  cursor: pointer; display: inline-flex; align-items: center; justify-content: center; text-decoration: none;
}
button.play { min-width: 5.5rem; background: var(--accent); color: var(--accent-fg); border-color: var(--accent); font-weight: 600; }
button:hover, .action:hover { filter: brightness(0.95); }
.player { background: var(--card); border: 1px solid var(--line); border-radius: 0.6rem; padding: 0.5rem 0.75rem 0.75rem; margin-top: 0.75rem; }
.player-head { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem; }
.player-head h2 { margin: 0.25rem 0 0.5rem; overflow-wrap: anywhere; }
.player video { display: block; width: 100%; aspect-ratio: 16 / 9; max-height: 70vh; background: #000; border-radius: 0.3rem; }
.player audio { display: block; width: 100%; }
.message { margin: 0.5rem 0 0; min-height: 1.4em; overflow-wrap: anywhere; }
.message.error { color: var(--error); font-weight: 600; }
.message.ok { color: var(--ok); }
.stream-list, .channel-items { list-style: none; margin: 0; padding: 0; }
.stream { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0.5rem 0.75rem; background: var(--card); border: 1px solid var(--line); border-radius: 0.4rem; margin-bottom: 0.4rem; }
.stream-name { font-weight: 600; flex: 1 1 12rem; overflow-wrap: anywhere; }
.stream .detail { color: var(--muted); font-variant-numeric: tabular-nums; }
.stream .stream-error { flex-basis: 100%; color: var(--error); }
.badge { font-size: 0.75rem; border: 1px solid var(--line); border-radius: 0.3rem; padding: 0 0.3rem; color: var(--muted); }
.channel {
  display: grid; grid-template-columns: 4rem 2rem 1fr; grid-template-areas: "logo number info" "actions actions actions";
  align-items: center; gap: 0.4rem 0.6rem; padding: 0.5rem 0.6rem; background: var(--card);
  border: 1px solid var(--line); border-radius: 0.4rem; margin-bottom: 0.4rem;
}
.channel.playing { border-color: var(--accent); box-shadow: inset 4px 0 0 var(--accent); }
.logo { grid-area: logo; width: 4rem; height: 2.5rem; object-fit: contain; }
.logo.missing { visibility: hidden; }
.number { grid-area: number; color: var(--muted); font-variant-numeric: tabular-nums; text-align: right; }
.info { grid-area: info; min-width: 0; display: flex; flex-direction: column; }
.name { font-weight: 600; overflow-wrap: anywhere; white-space: pre-wrap; }
.now { color: var(--muted); font-size: 0.9rem; overflow-wrap: anywhere; }
.actions { grid-area: actions; display: flex; flex-wrap: wrap; gap: 0.4rem; }
@media (min-width: 44rem) {
  .channel { grid-template-columns: 4rem 2rem 1fr auto; grid-template-areas: "logo number info actions"; }
  .actions { justify-content: flex-end; }
}
.notice {
  position: fixed; left: 50%; bottom: 1rem; transform: translateX(-50%); max-width: calc(100% - 2rem);
  margin: 0; padding: 0.6rem 1rem; border-radius: 0.4rem; background: var(--fg); color: var(--bg); overflow-wrap: anywhere;
}
.notice:empty { display: none; }
`;
