/**
 * The settings screen's bouquet panel (index.html): asks the plugin's UI server (server.js) for the
 * chosen receiver's bouquets, shows the answer as the Homebridge UI shows its own messages, and
 * writes the ticked bouquets into the form's config. Also points out values from config.json that
 * the form's dropdowns do not list. Runs in the Homebridge UI's iframe; `homebridge` is its API.
 */
'use strict';

(async () => {
  const $ = (id) => document.getElementById(id);
  const DEFAULT_BOUQUET = 'Favourites (TV)';

  let blocks = await homebridge.getPluginConfig();
  if (blocks.length === 0) {
    // A fresh install has no platform block yet; the form needs one to edit.
    blocks = [{ platform: 'XG2G', name: 'xg2g' }];
    await homebridge.updatePluginConfig(blocks);
  }
  const receivers = () => (Array.isArray(blocks[0].receivers) ? blocks[0].receivers : []);
  const receiverName = (r, i) => (r && (r.name || r.host)) || `Receiver ${i + 1}`;

  // --- Messages ---------------------------------------------------------------------------------
  // The Homebridge UI restyles Bootstrap's alerts: all grey, told apart by the border its own
  // alert-error / alert-warning / alert-info classes give, so each message also gets its icon.
  const LOOKS = {
    error: { alert: 'alert-error', icon: 'fa-circle-exclamation red-text' },
    warning: { alert: 'alert-warning', icon: 'fa-triangle-exclamation orange-text' },
    success: { alert: 'alert-success', icon: 'fa-circle-check green-text' },
    progress: { alert: 'alert-info', icon: 'fa-spinner fa-pulse' },
  };

  function say(look, message) {
    const box = $('xg2g-message');
    box.className = `alert ${LOOKS[look].alert} d-flex align-items-start mt-3 mb-0 text-start`;
    box.dataset.look = look;
    const icon = document.createElement('i');
    icon.className = `fas fa-fw fa-lg ${LOOKS[look].icon} me-2 mt-1`;
    icon.setAttribute('aria-hidden', 'true');
    const words = document.createElement('span');
    words.textContent = message;
    box.replaceChildren(icon, words);
    box.hidden = false;
  }

  // --- Following the form -----------------------------------------------------------------------
  // One entry per receiver in the form; on a fresh install the form's first (still empty)
  // receiver, so the check can run as soon as an address is typed.
  function fillReceivers() {
    const select = $('xg2g-receiver');
    const before = select.value;
    select.innerHTML = '';
    const list = receivers();
    for (let i = 0; i < Math.max(list.length, 1); i++) {
      const option = document.createElement('option');
      option.value = String(i);
      option.textContent = receiverName(list[i], i);
      select.appendChild(option);
    }
    if ([...select.options].some((o) => o.value === before)) select.value = before;
  }

  // config.json may hold values the form's dropdowns do not list (a streaming URL, a key code):
  // such a dropdown shows nothing and keeps the value until another is picked, so say what it is.
  const LISTED = {
    'receivers[].streamTarget': 'streaming backend',
    'receivers[].infoKey': 'info button',
    'proxy.audio.mode': 'audio transcoding',
    'proxy.audio.channels': 'audio channels',
  };
  const choices = new Map();
  const collectChoices = (items) => (items || []).forEach((item) => {
    if (item && typeof item === 'object') {
      if (typeof item.key === 'string' && Array.isArray(item.titleMap)) choices.set(item.key, item.titleMap.map((t) => t.value));
      collectChoices(item.items);
    }
  });

  function noteUnlisted() {
    const notes = [];
    const check = (key, owner, value) => {
      if (value !== undefined && choices.has(key) && !choices.get(key).includes(value)) notes.push(`${owner}${LISTED[key]}: ${value}`);
    };
    for (const key of Object.keys(LISTED)) {
      if (key.startsWith('receivers[].')) {
        const field = key.slice('receivers[].'.length);
        receivers().forEach((r, i) => check(key, `${receiverName(r, i)}, `, r && r[field]));
      } else {
        check(key, '', key.split('.').reduce((node, k) => (node && typeof node === 'object' ? node[k] : undefined), blocks[0]));
      }
    }
    const box = $('xg2g-unlisted');
    box.textContent = `Set in config.json and not in the lists below, which show them empty and keep them unless you pick another: ${notes.join('; ')}.`;
    box.hidden = notes.length === 0;
  }

  function follow(newBlocks) {
    blocks = newBlocks;
    fillReceivers();
    noteUnlisted();
  }

  // The UI does not report every edit (it drops the first one after a form redraw), so the
  // panel reads the form's current config again before each use instead of trusting events alone.
  const refresh = async () => follow(await homebridge.getPluginConfig());
  homebridge.addEventListener('configChanged', (event) => follow(event.data));

  // --- Loading and picking bouquets -------------------------------------------------------------
  /** `groups`: [heading, bouquet names] pairs (TV, then radio); empty groups are left out. */
  function showBouquets(index, groups) {
    const current = receivers()[index] || {};
    const chosen = new Set(Array.isArray(current.bouquets) && current.bouquets.length > 0 ? current.bouquets : [DEFAULT_BOUQUET]);
    const list = $('xg2g-list');
    list.innerHTML = '';
    let i = 0;
    for (const [heading, names] of groups) {
      if (names.length === 0) continue;
      const title = document.createElement('div');
      title.className = 'fw-semibold mt-2';
      title.textContent = heading;
      list.appendChild(title);
      names.forEach((name) => addBouquet(list, name, i++, chosen));
    }
    $('xg2g-bouquets').hidden = i === 0;
    $('xg2g-apply').onclick = () => applyBouquets(index, [...list.querySelectorAll('input:checked')].map((b) => b.value));
  }

  function addBouquet(list, name, i, chosen) {
    const row = document.createElement('div');
    row.className = 'form-check';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.className = 'form-check-input';
    box.id = `xg2g-b${i}`;
    box.value = name;
    box.checked = chosen.has(name);
    const label = document.createElement('label');
    label.className = 'form-check-label';
    label.htmlFor = box.id;
    label.textContent = name;
    row.append(box, label);
    list.appendChild(row);
  }

  async function applyBouquets(index, picked) {
    if (picked.length === 0) {
      say('warning', 'Tick at least one bouquet.');
      return;
    }
    await refresh();
    const list = receivers().slice();
    list[index] = { ...(list[index] || {}), bouquets: picked };
    blocks[0] = { ...blocks[0], receivers: list };
    await homebridge.updatePluginConfig(blocks);
    // The form keeps its own copy of the config once edited: redraw it so it shows the new bouquets.
    homebridge.hideSchemaForm();
    homebridge.showSchemaForm();
    say('success', `Bouquets set to ${picked.join(', ')}. Press Save to keep them.`);
  }

  async function loadBouquets() {
    // Replace the last answer at once, before anything is awaited, so it is never read as the new one.
    $('xg2g-bouquets').hidden = true;
    say('progress', 'Connecting to the receiver…');
    await refresh();
    const index = Number($('xg2g-receiver').value) || 0;
    const receiver = receivers()[index] || {};
    say('progress', `Connecting to ${receiver.host || 'the receiver'}…`);
    homebridge.showSpinner();
    let answer;
    try {
      answer = await homebridge.request('/bouquets', receiver);
    } catch (error) {
      answer = { ok: false, kind: 'server', message: `The settings server did not answer (${error && error.message ? error.message : error}): close and reopen the settings.` };
    } finally {
      homebridge.hideSpinner();
    }
    if (!answer.ok) {
      say(answer.kind === 'input' ? 'warning' : 'error', answer.message);
      return;
    }
    const d = answer.device;
    const radio = Array.isArray(answer.radio) ? answer.radio : [];
    const count = (n, what) => `${n} ${what} bouquet${n === 1 ? '' : 's'}`;
    say('success', `Connected to ${d.brand} ${d.model} (image ${d.imageVersion}, ${d.tuners} tuner${d.tuners === 1 ? '' : 's'}): ` +
      `${count(answer.bouquets.length, 'TV')} and ${count(radio.length, 'radio')}. Tick the ones to use in HomeKit and the playlist.`);
    showBouquets(index, [['TV', answer.bouquets], ['Radio', radio]]);
  }

  $('xg2g-load').addEventListener('click', loadBouquets);
  collectChoices((await homebridge.getPluginConfigSchema()).layout);
  follow(blocks);
  homebridge.showSchemaForm();
})();
