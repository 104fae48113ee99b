// certpress console: the page's script (no inline script: the server's
// Content-Security-Policy forbids it). Talks to the JSON API of
// docs/console.md; every change is a POST with the page's CSRF token.
'use strict';

const STRINGS = {
  'zh-CN': {
    title: 'certpress 证书打印控制台', upload: '上传名单', upload_go: '上传', path: '本机路径', open: '打开',
    all: '全部', ok: '可打印', warning: '警告', refused: '不予打印', search: '搜索姓名、编号',
    row: '行', state: '状态', name: '姓名', id: '证件号码', cert_no: '证书编号',
    occupation: '职业（工种）', level: '等级', reasons: '原因',
    none: '尚未载入名单。', full: '全版', fill: '套打', electronic: '电子证书',
    zoom: '点击图片查看打印分辨率。', loading: '正在载入……', loaded: '已载入',
    summary: '{file}：共 {records} 条，可打印 {valid} 条，不予打印 {refused} 条，警告 {warnings} 条',
    preview: '第 {row} 行 · {name}', failed: '失败', column: '列', pick_file: '请选择文件。', choose: '选择文件', no_file: '未选择文件', choose_photos: '照片（zip，可选）',
    print_title: '打印', dest: '打印机', dest_hint: 'ipp://… 或 CUPS 队列名', mode: '模式', rows: '行',
    rows_hint: '全部，或 2-10,12', printer: '校准配置', printer_hint: '可不填', print_go: '打印',
    history: '证书记录', cert_hint: '证书编号', look_up: '查询', spoil_title: '登记作废证书纸',
    serial: '流水码', reason: '原因', record: '登记',
    destroy_title: '登记销毁证书纸', serial_from: '流水码（或起始）', serial_to: '截止（区间时）',
    balance: '台账 {ledger}：入库 {received}，已发 {issued}，收回 {returned}，作废 {spoiled}，销毁 {destroyed}，余存 {remaining}',
    no_ledger: '台账 {ledger} 尚无记录',
    electronic_title: '电子证书', electronic_go: '签章并打包', download: '下载 zip',
    job_running: '作业 {id} 进行中……', job_done: '作业 {id} 已完成', job_failed: '作业 {id} 未完成（状态 {status}）',
  },
  en: {
    title: 'certpress console', upload: 'Upload a list', upload_go: 'Upload', path: 'Path on this machine', open: 'Open',
    all: 'All', ok: 'Printable', warning: 'Warning', refused: 'Refused', search: 'Search name, number',
    row: 'Row', state: 'State', name: 'Name', id: 'ID number', cert_no: 'Certificate No.',
    occupation: 'Occupation (job)', level: 'Level', reasons: 'Reasons',
    none: 'No batch loaded yet.', full: 'Full', fill: 'Fill', electronic: 'Electronic',
    zoom: 'Click a picture for print resolution.', loading: 'Loading…', loaded: 'Loaded',
    summary: '{file}: {records} records, {valid} printable, {refused} refused, {warnings} warnings',
    preview: 'Row {row} · {name}', failed: 'failed', column: 'column', pick_file: 'Choose a file first.', choose: 'Choose a file', no_file: 'no file chosen', choose_photos: 'Photos (zip, optional)',
    print_title: 'Print', dest: 'Printer', dest_hint: 'ipp://… or a CUPS queue', mode: 'Mode', rows: 'Rows',
    rows_hint: 'all, or 2-10,12', printer: 'Calibration', printer_hint: 'optional', print_go: 'Print',
    history: 'Certificate history', cert_hint: 'certificate number', look_up: 'Look up', spoil_title: 'Spoiled sheet',
    serial: 'Serial', reason: 'Reason', record: 'Record',
    destroy_title: 'Destroyed sheets', serial_from: 'Serial (or first)', serial_to: 'last (for a range)',
    balance: 'Ledger {ledger}: received {received}, issued {issued}, returned {returned}, spoiled {spoiled}, destroyed {destroyed}, remaining {remaining}',
    no_ledger: 'Ledger {ledger}: nothing recorded yet',
    electronic_title: 'Electronic certificates', electronic_go: 'Sign and zip', download: 'Download the zip',
    job_running: 'Job {id} running…', job_done: 'Job {id} done', job_failed: 'Job {id} did not complete (status {status})',
  },
};
const LANG = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
const T = STRINGS[LANG];
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const MODES = ['full', 'fill', 'electronic'];

function t(key, vars) {
  let s = T[key] || key;
  for (const k in vars || {}) s = s.split('{' + k + '}').join(vars[k]);
  return s;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

let batch = null;
let filter = 'all';
let selected = null;

function message(text, good) {
  const m = document.getElementById('message');
  m.textContent = text || '';
  m.className = good ? 'message good' : 'message';
}

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin' }, options || {}));
  const type = r.headers.get('Content-Type') || '';
  const body = type.startsWith('application/json') ? await r.json() : null;
  if (!r.ok) throw new Error((body && body.error) || (r.status + ' ' + r.statusText));
  return body;
}

function post(path, body) {
  return api(path, { method: 'POST', body: body, headers: { 'X-CSRF-Token': CSRF } });
}

// Every problem of a row, from the check report.
function reasonsByRow(report) {
  const by = new Map();
  for (const p of report.problems || []) {
    const key = p.row || 0;
    if (!by.has(key)) by.set(key, []);
    by.get(key).push(p);
  }
  return by;
}

function render() {
  const tbody = document.querySelector('#rows tbody');
  tbody.textContent = '';
  const empty = document.getElementById('empty');
  const summary = document.getElementById('summary');
  if (!batch || !batch.loaded) {
    empty.hidden = false;
    summary.textContent = '';
    return;
  }
  const s = batch.report.summary;
  summary.title = batch.file;
  summary.textContent = t('summary', { file: batch.file.split('/').pop(), records: s.records, valid: s.valid,
    refused: s.refused, warnings: s.warnings });
  const reasons = reasonsByRow(batch.report);
  const q = document.getElementById('search').value.trim().toLowerCase();
  let shown = 0;
  for (const r of batch.rows) {
    if (filter !== 'all' && r.state !== filter) continue;
    const hay = [r.name, r.cert_no, r.occupation, String(r.row)].join(' ').toLowerCase();
    if (q && !hay.includes(q)) continue;
    const tr = el('tr');
    tr.dataset.row = r.row;
    tr.dataset.state = r.state;
    if (selected === r.row) tr.classList.add('sel');
    tr.append(el('td', 'rownum', r.row));
    const st = el('td');
    st.append(el('span', 'state ' + r.state, t(r.state)));
    const name = el('td', 'name');
    if (r.cutout) {
      // The name as it will be printed, cut from the page: proofread that,
      // not the browser's font.
      const img = el('img', 'cut');
      img.src = '/api/namecut?row=' + r.row;
      img.alt = r.name || '';
      img.title = r.name || '';
      img.loading = 'lazy';
      name.append(img);
      if (r.face) name.append(el('div', 'face', r.face));
    } else {
      name.textContent = r.name || '';
    }
    tr.append(st, name, el('td', 'id', r.id), el('td', 'cert', r.cert_no),
      el('td', null, r.occupation + (r.job_type && r.job_type !== '--' ? '（' + r.job_type + '）' : '')),
      el('td', 'level', r.level));
    tr.addEventListener('click', () => showPreview(r));
    tbody.append(tr);
    // The reasons on a line of their own below the row, the width of the table.
    const ps = reasons.get(r.row) || [];
    if (ps.length) {
      tr.classList.add('has-why');
      const wr = el('tr', 'why ' + r.state);
      wr.dataset.whyRow = r.row;
      wr.append(el('td'));
      const why = el('td', 'reasons');
      why.colSpan = 6;
      for (const p of ps) {
        const d = el('div');
        d.append(el('span', 'rule', '[' + p.rule + (p.article ? ' ' + p.article : '') + '] '));
        d.append(document.createTextNode((p.column ? p.column + '：' : '') + p.message));
        why.append(d);
      }
      wr.append(why);
      wr.addEventListener('click', () => showPreview(r));
      tbody.append(wr);
    }
    shown++;
  }
  empty.hidden = shown > 0;
}

function previewUrl(row, mode, dpi) {
  return '/api/preview?row=' + row + '&mode=' + mode + '&dpi=' + dpi;
}

function showPreview(r) {
  selected = r.row;
  for (const tr of document.querySelectorAll('#rows tbody tr'))
    tr.classList.toggle('sel', Number(tr.dataset.row || tr.dataset.whyRow) === r.row);
  const pane = document.getElementById('preview');
  pane.hidden = false;
  document.getElementById('preview-title').textContent = t('preview', { row: r.row, name: r.name || '' });
  const figs = pane.querySelectorAll('figure');
  MODES.forEach((mode, i) => {
    const fig = figs[i];
    fig.dataset.mode = mode;
    const old = fig.querySelector('.fail');
    if (old) old.remove();
    const img = fig.querySelector('img');
    const a = fig.querySelector('a');
    if (r.state === 'refused') {
      img.removeAttribute('src');
      a.removeAttribute('href');
      fig.dataset.state = 'refused';
      fig.append(el('p', 'fail', t('refused')));
      return;
    }
    img.alt = t(mode) + ' ' + r.row;
    fig.dataset.state = 'loading';
    img.onload = () => { fig.dataset.state = 'loaded'; };
    img.onerror = () => { fig.dataset.state = 'failed'; fig.append(el('p', 'fail', t('failed'))); };
    img.src = previewUrl(r.row, mode, 60);
    a.href = previewUrl(r.row, mode, 300);
  });
}

// A print: the job runs on the server; ?wait=1 answers once it is done.
async function runJob(path, form) {
  const state = document.getElementById('job-state');
  const log = document.getElementById('job-log');
  const link = document.getElementById('zip-link');
  link.hidden = true;
  try {
    const r = await post(path, form);
    state.className = 'message good';
    state.textContent = t('job_running', { id: r.job });
    let j;
    do {
      j = await api('/api/job/' + r.job + '?wait=1');
    } while (j.state !== 'done');
    state.className = j.status === 0 ? 'message good' : 'message';
    state.textContent = t(j.status === 0 ? 'job_done' : 'job_failed', { id: j.id, status: j.status });
    log.textContent = j.log;
    log.hidden = !j.log;
    ledgerLine();
    if (j.zip) {
      link.href = '/api/job/' + j.id + '/zip';
      link.hidden = false;
    }
  } catch (e) {
    state.className = 'message';
    state.textContent = e.message;
  }
}

// The ledger's one line: the stock balance now.
async function ledgerLine() {
  const p = document.getElementById('balance');
  try {
    const l = await api('/api/ledger');
    const name = (l.ledger || '').split('/').pop();
    p.title = l.ledger || '';
    p.textContent = l.exists ? t('balance', Object.assign({ ledger: name }, l.balance))
      : t('no_ledger', { ledger: name });
  } catch (e) {
    p.textContent = e.message;
  }
}

async function showHistory(cert) {
  const state = document.getElementById('ledger-state');
  const pre = document.getElementById('history');
  try {
    const l = await api('/api/ledger?cert=' + encodeURIComponent(cert));
    state.textContent = '';
    pre.textContent = l.history;
    pre.hidden = false;
  } catch (e) {
    pre.hidden = true;
    state.className = 'message';
    state.textContent = e.message;
  }
}

async function spoil(form, url = '/api/ledger/spoil') {
  const state = document.getElementById('ledger-state');
  try {
    const r = await post(url, form);
    state.className = 'message good';
    state.textContent = r.recorded;
    ledgerLine();
  } catch (e) {
    state.className = 'message';
    state.textContent = e.message;
  }
}

function show(b) {
  batch = b;
  document.getElementById('print').hidden = !(b && b.loaded);
  selected = null;
  document.getElementById('preview').hidden = true;
  render();
}

// The address's #filter=STATE and #row=N: a view to link to (and for the
// browser tests).
function applyHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const f = h.get('filter');
  if (f) {
    const b = document.querySelector('#filters button[data-filter="' + CSS.escape(f) + '"]');
    if (b) b.click();
  }
  const n = Number(h.get('row'));
  const r = batch && batch.rows ? batch.rows.find(x => x.row === n) : null;
  if (r) showPreview(r);
}

async function reload() {
  try {
    show(await api('/api/batch'));
    applyHash();
  } catch (e) {
    message(e.message);
  }
}

async function load(form) {
  message(t('loading'), true);
  try {
    show(await post('/api/load', form));
    message(t('loaded') + ' ' + batch.file, true);
  } catch (e) {
    message(e.message);
  }
}

function translate() {
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll('[data-tp]')) e.placeholder = t(e.dataset.tp);
}

document.addEventListener('DOMContentLoaded', () => {
  translate();
  // The token stays in the cookie; the address bar need not show it.
  if (location.search.includes('token=')) history.replaceState(null, '', '/' + location.hash);
  document.getElementById('upload-form').addEventListener('submit', ev => {
    ev.preventDefault();
    const f = document.getElementById('file').files[0];
    if (!f) { message(t('pick_file')); return; }
    const fd = new FormData();
    fd.append('file', f, f.name);
    const p = document.getElementById('photos').files[0];
    if (p) fd.append('photos', p, p.name);
    load(fd);
  });
  const fileName = document.getElementById('file-name');
  fileName.textContent = t('no_file');
  document.getElementById('file').addEventListener('change', ev => {
    const f = ev.target.files[0];
    fileName.textContent = f ? f.name : t('no_file');
  });
  document.getElementById('photos').addEventListener('change', ev => {
    const f = ev.target.files[0];
    document.getElementById('photos-name').textContent = f ? f.name : '';
  });
  document.getElementById('path-form').addEventListener('submit', ev => {
    ev.preventDefault();
    const fd = new FormData();
    fd.append('path', document.getElementById('path').value.trim());
    load(fd);
  });
  document.getElementById('print-form').addEventListener('submit', ev => {
    ev.preventDefault();
    runJob('/api/print', new FormData(ev.target));
  });
  document.getElementById('history-form').addEventListener('submit', ev => {
    ev.preventDefault();
    showHistory(document.getElementById('history-cert').value.trim());
  });
  document.getElementById('spoil-form').addEventListener('submit', ev => {
    ev.preventDefault();
    spoil(new FormData(ev.target));
  });
  document.getElementById('destroy-form').addEventListener('submit', ev => {
    ev.preventDefault();
    spoil(new FormData(ev.target), '/api/ledger/destroy');
  });
  document.getElementById('electronic-form').addEventListener('submit', ev => {
    ev.preventDefault();
    runJob('/api/electronic', new FormData(ev.target));
  });
  for (const b of document.querySelectorAll('#filters button')) {
    b.addEventListener('click', () => {
      filter = b.dataset.filter;
      for (const o of document.querySelectorAll('#filters button')) o.classList.toggle('on', o === b);
      render();
    });
  }
  document.getElementById('search').addEventListener('input', render);
  reload();
  ledgerLine();
  const h = new URLSearchParams(location.hash.slice(1)).get('cert');
  if (h) {
    document.getElementById('history-cert').value = h;
    showHistory(h);
  }
});
