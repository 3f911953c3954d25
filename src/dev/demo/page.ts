/**
 * The demo's one page, server-rendered: the application form, the #admin channel as Slack would show
 * it (with the open dialog, if any), the mailbox and Keystone's view. A few lines of script reload
 * the page when something changed, unless a field is being typed in; everything else is forms.
 */
import { blocksToHtml } from './block-kit-html.js';
import { asArray, asRecord, asString, escapeHtml } from './html.js';
import { mrkdwnToHtml, type NameOf, textObjectToHtml } from './mrkdwn-html.js';

export interface ChannelItem {
  kind: 'message' | 'ephemeral';
  /** For buttons: where the message lives (`ephemeral` items have their own ts). */
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  edited: boolean;
  replies: ChannelItem[];
}

export interface OpenDialog {
  viewId: string;
  view: Record<string, unknown>;
  errors: Record<string, string>;
  values: Record<string, string[]>;
}

export interface MailSummary {
  index: number;
  to: string;
  subject: string;
  at: Date;
}

export interface KeystoneRow {
  application: string;
  project: string;
  projectId: string | undefined;
  user: string;
  userId: string | undefined;
  roles: string[];
}

export interface PageModel {
  people: readonly { id: string; name: string; admin: boolean }[];
  actor: string;
  nameOf: NameOf;
  flash: string | undefined;
  formDefaults: Record<string, string>;
  channelName: string;
  items: ChannelItem[];
  dialog: OpenDialog | undefined;
  mails: MailSummary[];
  keystone: { authUrl: string; rows: KeystoneRow[]; error: string | undefined };
  version: string;
}

const FORM_FIELDS: {
  name: string;
  label: string;
  kind?: 'choice' | 'textarea';
  choices?: string[];
  required?: boolean;
}[] = [
  { name: 'email', label: 'Email', required: true },
  { name: 'firstName', label: 'First name', required: true },
  { name: 'lastName', label: 'Last name', required: true },
  { name: 'hasAccount', label: 'Have an account?', kind: 'choice', choices: ['No', 'Yes'] },
  { name: 'organization', label: 'Organization' },
  { name: 'role', label: 'Role' },
  { name: 'phone', label: 'Phone' },
  { name: 'sponsor', label: 'Sponsor' },
  { name: 'pin', label: 'PIN (4 digits)', required: true },
  { name: 'comment', label: 'Comment', kind: 'textarea' },
  {
    name: 'projectKind',
    label: 'New or existing project',
    kind: 'choice',
    choices: ['New project', 'Existing project'],
  },
  { name: 'newProjectName', label: 'New project name' },
  { name: 'newProjectDescription', label: 'New project description' },
  { name: 'extraUsers', label: 'Extra existing users' },
  { name: 'existingProjectName', label: 'Existing project name' },
  { name: 'contactName', label: 'Project contact name' },
  { name: 'contactEmail', label: 'Contact email' },
];

/** The form's field names, which are the sheet's field names. */
export const APPLICATION_FIELDS = FORM_FIELDS.map((field) => field.name);

function applicationForm(defaults: Record<string, string>): string {
  const fields = FORM_FIELDS.map((field) => {
    const id = `f-${field.name}`;
    const value = defaults[field.name] ?? '';
    if (field.kind === 'choice') {
      const choices = (field.choices ?? [])
        .map(
          (choice) =>
            `<label class="choice"><input type="radio" name="${field.name}" value="${escapeHtml(choice)}"${choice === value ? ' checked' : ''}> ${escapeHtml(choice)}</label>`,
        )
        .join('');
      return `<fieldset><legend>${escapeHtml(field.label)}</legend>${choices}</fieldset>`;
    }
    const control =
      field.kind === 'textarea'
        ? `<textarea id="${id}" name="${field.name}" rows="2">${escapeHtml(value)}</textarea>`
        : `<input id="${id}" name="${field.name}" value="${escapeHtml(value)}"${field.required ? ' required' : ''}${
            field.name === 'pin' ? ' inputmode="numeric" pattern="[0-9]{4}"' : ''
          }>`;
    return `<div class="field"><label for="${id}">${escapeHtml(field.label)}</label>${control}</div>`;
  }).join('\n');
  return `<form method="post" action="/apply" id="application-form">${fields}
<div class="row"><button type="submit" class="btn primary">Submit application</button></div></form>
<form method="post" action="/command" class="row"><input type="hidden" name="text" value="sync">
<button type="submit" class="btn" id="sync-now">Sync now <small>(/kaizen sync)</small></button></form>`;
}

function interactive(item: ChannelItem): (element: Record<string, unknown>, blockId: string) => string {
  return (element, blockId) => {
    if (element.type !== 'button') {
      return `<span class="bk-unknown">[${escapeHtml(String(element.type))}]</span>`;
    }
    const label = asString(asRecord(element.text)?.text) ?? '';
    const style = asString(element.style) ?? '';
    const url = asString(element.url);
    if (url !== undefined) {
      return `<a class="btn ${escapeHtml(style)}" href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(label)}</a>`;
    }
    const hidden = {
      channel: item.channel,
      ts: item.ts,
      ephemeral: item.kind === 'ephemeral' ? '1' : '',
      block_id: blockId,
      action_id: asString(element.action_id) ?? '',
      value: asString(element.value) ?? '',
      label,
    };
    return `<form method="post" action="/act" class="inline">${Object.entries(hidden)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
      .join('')}<button type="submit" class="btn ${escapeHtml(style)}">${escapeHtml(label)}</button></form>`;
  };
}

function channelItem(item: ChannelItem, nameOf: NameOf): string {
  const body =
    item.blocks && item.blocks.length > 0
      ? blocksToHtml(item.blocks, { nameOf, interactive: interactive(item) })
      : `<div class="bk-text">${mrkdwnToHtml(item.text ?? '', nameOf)}</div>`;
  const replies =
    item.replies.length === 0
      ? ''
      : `<div class="thread"><div class="thread-count">${item.replies.length} ${item.replies.length === 1 ? 'reply' : 'replies'}</div>${item.replies
          .map((reply) => channelItem(reply, nameOf))
          .join('')}</div>`;
  const who =
    item.kind === 'ephemeral'
      ? '<span class="who">Kaizen</span> <span class="only-you">Only visible to you</span>'
      : `<span class="who">Kaizen</span> <span class="app">APP</span>${item.edited ? ' <span class="edited">(edited)</span>' : ''}`;
  return `<article class="msg ${item.kind}" data-ts="${escapeHtml(item.ts)}"><div class="msg-head">${who}</div>${body}${replies}</article>`;
}

function dialog(open: OpenDialog, nameOf: NameOf): string {
  const { view } = open;
  const title = textObjectToHtml(view.title, nameOf);
  const submit = asString(asRecord(view.submit)?.text);
  const close = asString(asRecord(view.close)?.text) ?? 'Cancel';
  const body = blocksToHtml(asArray(view.blocks), {
    nameOf,
    interactive: (element) => `<span class="bk-unknown">[${escapeHtml(String(element.type))}]</span>`,
    errors: open.errors,
    values: open.values,
  });
  return `<div class="backdrop"></div><dialog open class="modal" aria-labelledby="modal-title">
<form method="post" action="/submit"><input type="hidden" name="view_id" value="${escapeHtml(open.viewId)}">
<header><h2 id="modal-title">${title}</h2></header><div class="modal-body">${body}</div>
<footer><button type="submit" class="btn" formaction="/close" formnovalidate>${escapeHtml(close)}</button>${
    submit ? `<button type="submit" class="btn primary">${escapeHtml(submit)}</button>` : ''
  }</footer></form></dialog>`;
}

function mailbox(mails: MailSummary[]): string {
  if (mails.length === 0) return '<p class="empty">No mail yet. Approving an applicant sends one.</p>';
  return `<ul class="mails">${mails
    .map(
      (mail) =>
        `<li><a href="/mail/${mail.index}" class="mail-link"><strong>${escapeHtml(mail.subject)}</strong></a><br><small>to ${escapeHtml(mail.to)} · ${escapeHtml(mail.at.toISOString().slice(11, 19))} UTC</small></li>`,
    )
    .join('')}</ul>`;
}

function keystoneView(model: PageModel['keystone']): string {
  const error = model.error
    ? `<p class="bk-error">Keystone did not answer: ${escapeHtml(model.error)}</p>`
    : '';
  if (model.rows.length === 0) {
    return `${error}<p class="empty">Nothing yet: projects, users and role assignments appear here, read live from ${escapeHtml(model.authUrl)}.</p>`;
  }
  const rows = model.rows
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.application)}</td><td>${escapeHtml(row.project)}<br><code>${escapeHtml(row.projectId ?? 'not created')}</code></td><td>${escapeHtml(row.user)}<br><code>${escapeHtml(row.userId ?? 'not created')}</code></td><td>${escapeHtml(row.roles.join(', ') || '—')}</td></tr>`,
    )
    .join('');
  return `${error}<table class="keystone"><thead><tr><th>Application</th><th>Project</th><th>User</th><th>Roles</th></tr></thead><tbody>${rows}</tbody></table><p><small>Read live from ${escapeHtml(model.authUrl)}</small></p>`;
}

const SCRIPT = `(function () {
  var version = document.body.dataset.version;
  function typing() {
    var a = document.activeElement;
    return a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.type !== 'hidden';
  }
  setInterval(function () {
    fetch('/version').then(function (r) { return r.text(); }).then(function (v) {
      if (v !== version && !typing() && !document.querySelector('dialog.modal')) location.reload();
      else if (v !== version && document.querySelector('dialog.modal') && v.split('|')[1] !== version.split('|')[1]) location.reload();
    }, function () {});
  }, 700);
})();`;

export function demoPage(model: PageModel): string {
  const people = model.people
    .map(
      (person) =>
        `<option value="${escapeHtml(person.id)}"${person.id === model.actor ? ' selected' : ''}>${escapeHtml(person.name)}</option>`,
    )
    .join('');
  const items = model.items.map((item) => channelItem(item, model.nameOf)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kaizen demo</title><style>${STYLE}</style></head>
<body data-version="${escapeHtml(model.version)}">
<header class="top"><h1>Kaizen demo</h1>
<form method="post" action="/as" class="actor"><label for="actor">Acting in Slack as</label>
<select id="actor" name="actor">${people}</select><button type="submit" class="btn">Switch</button></form></header>
${model.flash ? `<p class="flash" role="status">${escapeHtml(model.flash)}</p>` : ''}
<main class="panes">
<section class="pane" id="form-pane"><h2>Application form</h2>${applicationForm(model.formDefaults)}</section>
<section class="pane slack" id="channel-pane"><h2># ${escapeHtml(model.channelName)}</h2>
<div class="channel">${items || '<p class="empty">No messages yet. Submit the form, then Sync now.</p>'}</div>
<form method="post" action="/command" class="slash"><label for="command">/kaizen</label>
<input id="command" name="text" placeholder="help, pending, status ann@example.org, sync…"><button type="submit" class="btn">Send</button></form>
</section>
<section class="pane" id="mail-pane"><h2>Mailbox</h2>${mailbox(model.mails)}</section>
<section class="pane wide" id="keystone-pane"><h2>Keystone</h2>${keystoneView(model.keystone)}</section>
</main>
${model.dialog ? dialog(model.dialog, model.nameOf) : ''}
<script>${SCRIPT}</script>
</body></html>`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1c1d;background:#f4f4f6}
.top{display:flex;align-items:center;justify-content:space-between;padding:10px 20px;background:#3f0e40;color:#fff}
.top h1{font-size:18px;margin:0}.actor{display:flex;gap:8px;align-items:center}
.flash{margin:10px 20px;padding:8px 12px;background:#e8f5e9;border:1px solid #a5d6a7;border-radius:6px}
.panes{display:grid;grid-template-columns:minmax(260px,1fr) minmax(380px,1.6fr) minmax(240px,1fr);gap:14px;padding:14px 20px}
.pane{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 14px;min-width:0}.pane.wide{grid-column:1/-1}
.pane h2{font-size:15px;margin:0 0 10px}
.field{margin-bottom:6px}.field label{display:block;font-size:12px;color:#555}
input,textarea,select{font:inherit;padding:5px 7px;border:1px solid #bbb;border-radius:4px;width:100%}
input[type=radio],input[type=checkbox]{width:auto}
fieldset{border:0;padding:0;margin:0 0 6px}fieldset legend{font-size:12px;color:#555}.choice{margin-right:10px}
.row{margin-top:8px}.btn{font:inherit;padding:5px 12px;border:1px solid #bbb;border-radius:4px;background:#fff;cursor:pointer;color:#1d1c1d;text-decoration:none;display:inline-block}
.btn.primary{background:#007a5a;border-color:#007a5a;color:#fff}.btn.danger{background:#fff;border-color:#e01e5a;color:#e01e5a}
form.inline{display:inline}.bk-actions{display:flex;gap:8px;flex-wrap:wrap;margin:6px 0}
.channel{max-height:70vh;overflow:auto}.msg{border-top:1px solid #eee;padding:8px 6px}.msg-head{font-size:13px}
.who{font-weight:700}.app{font-size:10px;background:#ddd;border-radius:3px;padding:0 3px}.edited,.only-you{color:#777;font-size:12px}
.msg.ephemeral{background:#f8f8fa;border-left:3px solid #1264a3;padding-left:8px}
.bk-header{font-size:16px;margin:6px 0}.bk-section{display:flex;gap:10px;margin:4px 0}.bk-section-body{flex:1;min-width:0}
.bk-fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}.bk-context{font-size:12px;color:#616061;margin:4px 0}
.bk-divider{border:0;border-top:1px solid #ddd}.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
code{background:#f6f6f6;border:1px solid #e4e4e4;border-radius:3px;padding:0 3px;font-size:12px;color:#c01343}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}
.thread{margin:6px 0 0 18px;border-left:2px solid #ddd;padding-left:10px}.thread-count{font-size:12px;color:#1264a3}
.slash{display:flex;gap:6px;align-items:center;margin-top:10px}.slash label{font-weight:700}
.mails{list-style:none;padding:0;margin:0}.mails li{border-top:1px solid #eee;padding:6px 0}
.keystone{border-collapse:collapse;width:100%}.keystone th,.keystone td{border-top:1px solid #eee;text-align:left;padding:4px 8px;vertical-align:top}
.empty{color:#777}.backdrop{position:fixed;inset:0;background:rgba(0,0,0,.45)}
dialog.modal{position:fixed;top:5vh;width:min(520px,92vw);max-height:90vh;overflow:auto;border:0;border-radius:10px;padding:0;box-shadow:0 10px 40px rgba(0,0,0,.35)}
dialog.modal header,dialog.modal footer{padding:12px 18px;border-bottom:1px solid #eee}dialog.modal footer{border-top:1px solid #eee;border-bottom:0;display:flex;justify-content:flex-end;gap:8px;position:sticky;bottom:0;background:#fff}
dialog.modal h2{margin:0;font-size:18px}.modal-body{padding:8px 18px}
.bk-input{margin:10px 0}.bk-input label{font-weight:700;display:block;margin-bottom:3px}.bk-hint{font-size:12px;color:#616061}
.bk-choices label{font-weight:400}.bk-error{color:#e01e5a;font-size:13px;margin-top:3px}.has-error input,.has-error select,.has-error textarea{border-color:#e01e5a}
.bk-text q{display:block;border-left:3px solid #ddd;padding-left:8px;color:#444}.bk-text q::before,.bk-text q::after{content:none}
.bk-unknown,.bk-image-alt{color:#999;font-size:12px}
@media (max-width:1000px){.panes{grid-template-columns:1fr}}
`;
