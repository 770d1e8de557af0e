-- A real Neovim driving the real nemo-lsp through the plugin, run by tests/editors/test_nvim.py:
--
--   nvim --headless --clean -n --cmd 'set rtp^=editors/nvim' -l lsp.lua MODE SPEC PYTHON
--
-- MODE `native`: require('nemo').setup() on Neovim 0.11 (vim.lsp.config + vim.lsp.enable). SPEC is
-- a copy of examples/production-planning.opt.md with two mistakes: `stok[t]` (NEMO124, with the
-- "Change to `stock`" quick fix) and `if t >= 1 else` (NEMO126, found once the names resolve).
-- The script applies the quick fix, checks the re-lint, fixes the second mistake by editing the
-- buffer, saves (the server runs the pipeline) and waits for the code lens to say `validated`;
-- then :NemoReport, :NemoOpen optimizer (and the alias :NemoOpenSimulator). On the way it runs
-- :NemoRepair on the NEMO126 diagnostic and follows require('nemo').status() through the run.
-- MODE `legacy`: setup({ native = false }) (the Neovim 0.10 path: vim.lsp.start on FileType);
-- attaches, lints, and applies the quick fix through vim.lsp.buf.code_action({ apply = true }).
-- MODE `missing` / `missing-legacy`: cmd names a program that does not exist: no client, one
-- clear message saying how to install the server.
--
-- Prints each step; on failure prints the state (diagnostics, lenses, messages, LSP log) and exits 1.

local mode, spec, python = arg[1], arg[2], arg[3]
assert(mode and spec and python, 'usage: lsp.lua native|legacy|missing|missing-legacy SPEC PYTHON')

-- Opening the generated .py file would otherwise probe for a Python provider (~0.7 s).
vim.g.loaded_python3_provider = 0

local messages = {} ---@type string[]
local real_notify = vim.notify
vim.notify = function(msg, level, opts)
  messages[#messages + 1] = ('[%s] %s'):format(tostring(level), tostring(msg))
  return real_notify(msg, level, opts)
end

local buf ---@type integer
local progress = {} ---@type string[]
local statuses = {} ---@type string[]  require('nemo').status() after each progress event
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local v = ev.data and ev.data.params and ev.data.params.value or {}
    progress[#progress + 1] = ('%s | %s | %s'):format(tostring(v.kind), tostring(v.title), tostring(v.message))
    if buf then
      statuses[#statuses + 1] = require('nemo').status(buf)
    end
  end,
})

local t0 = vim.uv.hrtime()

local function elapsed()
  return (vim.uv.hrtime() - t0) / 1e9
end

local function step(text)
  print(('[%5.2fs] %s'):format(elapsed(), text))
end

local function dump_state()
  local out = { '--- state ---' }
  if buf and vim.api.nvim_buf_is_valid(buf) then
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      out[#out + 1] = ('diagnostic %s line %d: %s'):format(tostring(d.code), d.lnum + 1, d.message)
    end
    for _, l in ipairs(vim.lsp.codelens.get(buf)) do
      out[#out + 1] = ('lens line %d: %s'):format(l.range.start.line + 1, l.command and l.command.title or '?')
    end
  end
  for _, c in ipairs(vim.lsp.get_clients()) do
    out[#out + 1] = ('client %d %s initialized=%s stopped=%s'):format(c.id, c.name, tostring(c.initialized),
      tostring(c:is_stopped()))
  end
  for _, p in ipairs(progress) do
    out[#out + 1] = 'progress ' .. p
  end
  for _, st in ipairs(statuses) do
    out[#out + 1] = 'status ' .. st
  end
  for _, m in ipairs(messages) do
    out[#out + 1] = 'message ' .. m
  end
  local log = vim.lsp.get_log_path()
  if vim.fn.filereadable(log) == 1 then
    local lines = vim.fn.readfile(log)
    out[#out + 1] = '--- ' .. log .. ' (last 40 lines) ---'
    for i = math.max(1, #lines - 39), #lines do
      out[#out + 1] = lines[i]
    end
  end
  io.stderr:write(table.concat(out, '\n') .. '\n')
end

local function fail(msg)
  io.stderr:write(('FAILED after %.2fs: %s\n'):format(elapsed(), msg))
  dump_state()
  os.exit(1)
end

local function check(cond, msg)
  if not cond then
    fail(msg)
  end
end

local function wait(ms, cond, what)
  if not vim.wait(ms, cond, 20) then
    fail('timed out after ' .. ms .. ' ms waiting for ' .. what)
  end
end

local function codes()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    out[#out + 1] = tostring(d.code)
  end
  table.sort(out)
  return table.concat(out, ',')
end

local function diagnostic(code)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == code then
      return d
    end
  end
end

local function find_line(pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find(pattern, 1, true) then
      return i - 1, line
    end
  end
end

local function code_actions(client, d)
  local lsp_d = d.user_data and d.user_data.lsp
  check(lsp_d ~= nil, 'the diagnostic has no user_data.lsp')
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = lsp_d.range,
    context = { diagnostics = { lsp_d }, triggerKind = 1 },
  }
  local resp, err = client:request_sync('textDocument/codeAction', params, 5000, buf)
  check(resp and not resp.err, 'textDocument/codeAction failed: ' .. vim.inspect(err or (resp and resp.err)))
  return resp.result or {}
end

local nemo = require('nemo')
local cmd = { python, '-m', 'nemo_lsp' }

-- missing -------------------------------------------------------------------------------------
if mode == 'missing' or mode == 'missing-legacy' then
  nemo.setup({ cmd = { 'nemo-lsp-not-installed-here' }, native = mode == 'missing' })
  vim.cmd.edit(vim.fn.fnameescape(spec))
  buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == 'optmd', 'filetype is ' .. vim.bo[buf].filetype)
  wait(5000, function()
    return #messages > 0
  end, 'a message about the missing server')
  vim.wait(300) -- nothing else should start
  check(#vim.lsp.get_clients() == 0, 'a client started although the command does not exist')
  local text = table.concat(messages, '\n')
  check(text:find('nemo-lsp-not-installed-here', 1, true), 'the message does not name the command: ' .. text)
  check(text:find('python -m pip install nemo-lsp', 1, true), 'the message does not say how to install: ' .. text)
  check(text:find('pip install -e .', 1, true), 'the message does not mention the editable install: ' .. text)
  check(#messages == 1, 'expected exactly one message, got:\n' .. text)
  -- A second spec does not repeat the message.
  local other = vim.fs.dirname(spec) .. '/other.opt.md'
  vim.fn.writefile({ '# Other' }, other)
  vim.cmd.edit(vim.fn.fnameescape(other))
  vim.wait(200)
  check(#messages == 1, 'the message was repeated:\n' .. table.concat(messages, '\n'))
  local ok = pcall(vim.cmd, 'NemoSolve')
  check(ok, ':NemoSolve raised an error without a client')
  check(table.concat(messages, '\n'):find('no nemo-lsp client is attached', 1, true),
    ':NemoSolve without a client says nothing useful: ' .. table.concat(messages, '\n'))
  step('missing server: ' .. messages[1])
  os.exit(0)
end

-- crash: the command runs but the server exits at once (a Python without nemo-lsp) -----------
if mode == 'crash' then
  nemo.setup({ cmd = { python, '-m', 'nemo_lsp_is_not_installed_here' } })
  vim.cmd.edit(vim.fn.fnameescape(spec))
  buf = vim.api.nvim_get_current_buf()
  wait(15000, function()
    return table.concat(messages, '\n'):find('exited with code', 1, true) ~= nil
  end, 'a message about the server exiting')
  local text = table.concat(messages, '\n')
  check(text:find('python -m pip install nemo-lsp', 1, true), 'the message does not say how to install: ' .. text)
  step('server exited: ' .. text)
  os.exit(0)
end

-- native / legacy -----------------------------------------------------------------------------
nemo.setup({
  cmd = cmd,
  settings = { lintDelayMs = 20 },
  native = mode == 'native',
})
vim.cmd.edit(vim.fn.fnameescape(spec))
buf = vim.api.nvim_get_current_buf()
check(vim.bo[buf].filetype == 'optmd', 'filetype is ' .. vim.bo[buf].filetype)

local client
wait(20000, function()
  client = nemo.client(buf)
  return client ~= nil and client.initialized
end, 'the nemo client to attach and initialize')
step(('client %d attached (%s), server %s'):format(client.id, mode,
  vim.inspect(client.server_info and client.server_info.version)))
check(vim.deep_equal(client.config.cmd, cmd), 'client cmd is ' .. vim.inspect(client.config.cmd))
local provider = client.server_capabilities.executeCommandProvider or {}
for _, id in pairs(nemo.commands) do
  check(vim.tbl_contains(provider.commands or {}, id), 'the server does not offer command ' .. id)
end

-- 1. The lint error and its quick fix.
wait(15000, function()
  return diagnostic('NEMO124') ~= nil
end, 'diagnostic NEMO124 (`stok` is not defined)')
local d = diagnostic('NEMO124')
local stok_line = find_line('stok[t]')
check(d.lnum == stok_line, ('NEMO124 is on line %d, `stok[t]` on line %s'):format(d.lnum + 1, tostring(stok_line)))
local line_text = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, false)[1]
check(line_text:sub(d.col + 1, d.end_col) == 'stok', 'NEMO124 range covers `' .. line_text:sub(d.col + 1, d.end_col) .. '`')
check(d.message:find('did you mean `stock`', 1, true), 'NEMO124 message: ' .. d.message)
check(d.severity == vim.diagnostic.severity.ERROR, 'NEMO124 severity ' .. tostring(d.severity))
step('diagnostics: ' .. codes() .. ' - ' .. d.message)

if mode == 'legacy' then
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  local applied = false
  vim.lsp.buf.code_action({
    apply = true,
    context = { diagnostics = { d.user_data.lsp }, only = { 'quickfix' } },
    filter = function(a)
      return a.title == 'Change to `stock`'
    end,
  })
  wait(5000, function()
    applied = find_line('stok[t]') == nil
    return applied
  end, 'vim.lsp.buf.code_action to apply "Change to `stock`"')
else
  local actions = code_actions(client, d)
  local titles = {}
  local fix
  for _, a in ipairs(actions) do
    titles[#titles + 1] = a.title
    if a.title == 'Change to `stock`' then
      fix = a
    end
  end
  step('code actions: ' .. table.concat(titles, ' | '))
  check(fix ~= nil, 'no "Change to `stock`" action among: ' .. table.concat(titles, ' | '))
  check(fix.kind == 'quickfix' and fix.isPreferred == true, 'the fix is not a preferred quickfix: ' .. vim.inspect(fix))
  check(fix.edit ~= nil, 'the fix has no edit')
  check(vim.tbl_contains(titles, 'Solve now (nemo)'), 'no "Solve now (nemo)" source action')
  vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
end
local _, fixed = find_line('holding_cost * stock[t]')
check(fixed ~= nil and find_line('stok[t]') == nil, 'the buffer does not show the fix')
step('applied "Change to `stock`": ' .. vim.trim(fixed))

-- 2. The re-lint: NEMO124 is gone; with every name resolved the linter now enumerates the
--    constraints and finds `stock[t - 1]` outside T when t = 1 (the `>=` mistake).
wait(15000, function()
  return diagnostic('NEMO124') == nil and diagnostic('NEMO126') ~= nil
end, 'the re-lint: NEMO124 gone, NEMO126 reported')
local d126 = diagnostic('NEMO126')
check(d126.message:find('stock[0]', 1, true) and d126.message:find('outside T', 1, true), 'NEMO126 message: ' .. d126.message)
step('after the re-lint: ' .. codes() .. ' - ' .. d126.message)

if mode == 'legacy' then
  step('legacy path ok')
  vim.lsp.stop_client(client.id)
  os.exit(0)
end

-- 2b. :NemoRepair with the cursor on NEMO126 runs nemo.repairOptimizer with the buffer's URI and
--     the diagnostic's finding id; the offline `formal` agent cannot repair, the server says so.
local sent = {} ---@type table[]
local real_request = client.request
client.request = function(self, method, params, ...)
  if method == 'workspace/executeCommand' then
    sent[#sent + 1] = params
  end
  return real_request(self, method, params, ...)
end
vim.api.nvim_win_set_cursor(0, { d126.lnum + 1, d126.col })
vim.cmd('NemoRepair')
local function said(text)
  return table.concat(messages, '\n'):find(text, 1, true) ~= nil
    or vim.api.nvim_exec2('messages', { output = true }).output:find(text, 1, true) ~= nil
end
wait(5000, function()
  return said('needs a coding agent')
end, 'the server to explain that repairs need a coding agent')
client.request = real_request
local id = d126.user_data.lsp.data and d126.user_data.lsp.data.id
check(#sent == 1 and sent[1].command == 'nemo.repairOptimizer', ':NemoRepair sent ' .. vim.inspect(sent))
check(type(id) == 'string' and vim.deep_equal(sent[1].arguments, { vim.uri_from_bufnr(buf), id }),
  (':NemoRepair arguments %s, expected the URI and %s'):format(vim.inspect(sent[1].arguments), tostring(id)))
step(':NemoRepair -> nemo.repairOptimizer ' .. id)
check(vim.deep_equal(vim.fn.getcompletion('NemoRepair ', 'cmdline'), { 'optimizer', 'simulator' }),
  ':NemoRepair completion: ' .. vim.inspect(vim.fn.getcompletion('NemoRepair ', 'cmdline')))

-- 3. Fix the second mistake the way a user would (an edit in the buffer) and watch it clear.
local row, text = find_line('if t >= 1 else')
check(row ~= nil, 'no `if t >= 1 else` in the buffer')
local col = text:find('>=', 1, true) - 1
vim.api.nvim_buf_set_text(buf, row, col, row, col + 2, { '>' })
wait(15000, function()
  return #vim.diagnostic.get(buf) == 0
end, 'no diagnostics after fixing `>=`')
step('clean after editing `>=` to `>`')

-- 4. Save: the server runs the pipeline (with progress); the plugin refreshes the lenses when the
--    run ends (Neovim 0.11 does not advertise workspace/codeLens/refresh).
local function lens_with(word)
  for _, l in ipairs(vim.lsp.codelens.get(buf)) do
    local title = l.command and l.command.title or ''
    if title:find(word, 1, true) then
      return title
    end
  end
end
wait(5000, function()
  return lens_with('Solve') ~= nil
end, 'the "Solve" lens before the run')
vim.cmd('silent write')
step('saved')
wait(60000, function()
  return lens_with('validated') ~= nil
end, 'a code lens saying `validated`')
local title = lens_with('validated')
check(title:find('objective 78450', 1, true), 'lens: ' .. title)
local saw_begin, saw_end = false, false
for _, p in ipairs(progress) do
  saw_begin = saw_begin or p:find('^begin | nemo: solving') ~= nil
  saw_end = saw_end or p:find('^end | .* | validated$') ~= nil
end
check(saw_begin and saw_end, 'progress begin/end not seen: ' .. table.concat(progress, '; '))
local history = vim.api.nvim_exec2('messages', { output = true }).output
check(history:find('nemo: solving ' .. vim.fs.basename(spec) .. ': validated', 1, true), 'the outcome is not in :messages:\n' .. history)
step('lens: ' .. title)
check(vim.bo[buf].modified == false, 'the buffer is still modified after :write')
-- The statusline item followed the run: percentages while it ran, the outcome after.
local saw_running = false
for _, st in ipairs(statuses) do
  saw_running = saw_running or st:find('^nemo: %d+%% ') ~= nil
end
check(saw_running, 'require("nemo").status() never showed a running run: ' .. table.concat(statuses, '; '))
check(require('nemo').status(buf) == 'nemo: validated', 'status() after the run: ' .. require('nemo').status(buf))
step('status: ' .. require('nemo').status(buf))

-- 5. :NemoReport shows the last run's report (nemo.showReport through client:exec_cmd).
local spec_win = vim.api.nvim_get_current_win()
vim.cmd('NemoReport')
local report_buf
wait(5000, function()
  report_buf = vim.fn.bufnr('nemo://report/')
  return report_buf ~= -1
end, 'the :NemoReport window')
local report = table.concat(vim.api.nvim_buf_get_lines(report_buf, 0, -1, false), '\n')
check(report:find('outcome     validated', 1, true), 'report:\n' .. report)
check(report:find('objective   78450', 1, true), 'report:\n' .. report)
check(report:find('overtime', 1, true), 'report has no decisions:\n' .. report)
step(':NemoReport -> ' .. vim.api.nvim_buf_get_name(report_buf))
vim.api.nvim_set_current_win(vim.fn.bufwinid(report_buf))
vim.cmd('normal q')
check(vim.fn.bufwinid(report_buf) == -1, '`q` did not close the report window')

-- 6. :NemoOpen optimizer: the server asks Neovim to show the generated file (window/showDocument).
vim.api.nvim_set_current_win(spec_win)
check(vim.deep_equal(vim.fn.getcompletion('NemoOpen ', 'cmdline'), { 'optimizer', 'simulator', 'log' }),
  ':NemoOpen completion: ' .. vim.inspect(vim.fn.getcompletion('NemoOpen ', 'cmdline')))
check(vim.deep_equal(vim.fn.getcompletion('NemoOpen s', 'cmdline'), { 'simulator' }), ':NemoOpen s completion')
vim.cmd('NemoOpen optimizer')
local optimizer = spec:gsub('%.opt%.md$', '.optimizer.py')
wait(5000, function()
  return vim.api.nvim_buf_get_name(0) == optimizer
end, 'the generated optimizer to open (' .. optimizer .. ')')
step(':NemoOpen optimizer -> ' .. vim.fn.fnamemodify(optimizer, ':t'))
-- The old command names stay as aliases.
vim.api.nvim_set_current_buf(buf)
vim.cmd('NemoOpenSimulator')
local simulator = spec:gsub('%.opt%.md$', '.simulator.py')
wait(5000, function()
  return vim.api.nvim_buf_get_name(0) == simulator
end, 'the generated simulator to open (' .. simulator .. ')')
step(':NemoOpenSimulator -> ' .. vim.fn.fnamemodify(simulator, ':t'))
pcall(vim.cmd, 'NemoOpen nonsense') -- an error message, not a request
check(said('expected optimizer, simulator or log'), ':NemoOpen nonsense: ' .. table.concat(messages, '\n'))

-- 7. :checkhealth nemo runs the configured command with --version.
vim.cmd('checkhealth nemo')
local health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
check(health:find('OK nemo-lsp ', 1, true) and health:find('OK *.opt.md files get filetype optmd', 1, true)
  and not health:find('ERROR', 1, true), ':checkhealth nemo:\n' .. health)
step(':checkhealth nemo ok')

vim.lsp.stop_client(client.id)
os.exit(0)
