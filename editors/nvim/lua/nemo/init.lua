--- nemo.nvim: Neovim client for nemo-lsp, the language server for *.opt.md optimization specs.
---
--- Neovim 0.11+: `setup()` registers the server with `vim.lsp.config('nemo', ...)` (defaults in
--- lsp/nemo.lua) and calls `vim.lsp.enable('nemo')`. Neovim 0.10: it starts the server with
--- `vim.lsp.start()` on the `optmd` FileType. Either way plugin/nemo.lua adds the :Nemo* commands,
--- code-lens refresh and progress messages for every buffer a `nemo` client attaches to.
local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

--- Command ids, shared with the server (nemo_lsp/server/actions.py::COMMANDS).
M.commands = {
  solve = 'nemo.solve',
  regenerate = 'nemo.regenerate',
  repair_optimizer = 'nemo.repairOptimizer',
  repair_simulator = 'nemo.repairSimulator',
  open_optimizer = 'nemo.openOptimizer',
  open_simulator = 'nemo.openSimulator',
  open_log = 'nemo.openLog',
  show_report = 'nemo.showReport',
  consolidate = 'nemo.consolidate',
  open_candidate = 'nemo.openCandidate',
  save_to_memory = 'nemo.saveToMemory',
}

local INSTALL_HINT = 'Install the server with `python -m pip install nemo-lsp` '
  .. '(or `pip install -e .` in a nemo-lsp checkout) so that `nemo-lsp` is on PATH, then reopen the file; '
  .. "or point the plugin at a Python that has it: require('nemo').setup({ cmd = { '/path/to/python', '-m', 'nemo_lsp' } }). "
  .. 'See :checkhealth nemo.'

---@class nemo.Options
---@field cmd? string[]|fun(dispatchers: table): table  Server command (default { 'nemo-lsp' }).
---@field filetypes? string[]       Default { 'optmd' }.
---@field root_markers? string[]    Default { '.git', 'pyproject.toml' }.
---@field settings? table           Server settings, `{ nemo = { timeLimit = 60, ... } }` or flat.
---@field init_options? table       initializationOptions (default: the settings).
---@field capabilities? table       Client capabilities, merged with Neovim's.
---@field on_attach? fun(client: vim.lsp.Client, bufnr: integer)
---@field handlers? table<string, function>
---@field codelens? boolean         Refresh code lenses automatically (default true).
---@field progress? 'echo'|'notify'|false  How to show run progress (default 'echo').
---@field native? boolean           0.11+: use vim.lsp.config/enable (default); false: vim.lsp.start.
---@field enable? boolean           Start the server for optmd buffers (default true).

---@type nemo.Options
M.defaults = {
  codelens = true,
  progress = 'echo',
  native = has_011,
  enable = true,
}

---@type nemo.Options
M.options = vim.deepcopy(M.defaults)

-- Keys passed on to the LSP client configuration.
local LSP_KEYS = {
  'cmd', 'cmd_cwd', 'cmd_env', 'filetypes', 'root_markers', 'root_dir', 'settings', 'init_options',
  'capabilities', 'on_attach', 'on_init', 'handlers', 'trace', 'flags',
}

local function notify(msg, level)
  vim.notify('nemo: ' .. msg, level or vim.log.levels.INFO)
end

--- The defaults from lsp/nemo.lua (the single source of the server configuration).
local function base_config()
  local file = vim.api.nvim_get_runtime_file('lsp/nemo.lua', false)[1]
  local ok, cfg = pcall(dofile, file)
  return ok and type(cfg) == 'table' and cfg or {}
end

local function normalize_settings(settings)
  if settings == nil then
    return nil
  end
  if type(settings) == 'table' and settings.nemo == nil and next(settings) ~= nil then
    return { nemo = settings }
  end
  return settings
end

--- true when `cmd` can be spawned; otherwise tells the user (once) how to install the server.
---@param cmd any
---@return boolean
function M.check_cmd(cmd)
  if type(cmd) ~= 'table' then
    return true -- a function (e.g. vim.lsp.rpc.connect) or nil: nothing to check
  end
  local exe = cmd[1]
  if type(exe) == 'string' and vim.fn.executable(exe) == 1 then
    return true
  end
  local msg = ('nemo: cannot start the language server: `%s` is not an executable (cmd = %s). %s'):format(
    tostring(exe),
    vim.inspect(cmd),
    INSTALL_HINT
  )
  -- Scheduled: an error message inside a FileType autocmd would make the `:edit` that opened the
  -- file fail when a plugin runs it with vim.cmd().
  vim.schedule(function()
    vim.notify_once(msg, vim.log.levels.ERROR)
  end)
  return false
end

--- FileType optmd (plugin/nemo.lua): on 0.11, an enabled `nemo` config whose cmd cannot run.
function M._check_enabled(bufnr)
  if not has_011 or vim.bo[bufnr].buftype ~= '' or not vim.lsp.is_enabled('nemo') then
    return
  end
  local ok, config = pcall(function()
    return vim.lsp.config.nemo
  end)
  if ok and config and (config.filetypes == nil or vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype)) then
    M.check_cmd(config.cmd)
  end
end

function M._before_init(params, config)
  if params.initializationOptions == nil and type(config.settings) == 'table' and next(config.settings) then
    params.initializationOptions = config.settings
  end
end

function M._on_exit(code, signal, client_id)
  if code ~= 0 and signal == 0 then
    vim.schedule(function()
      notify(
        ('the language server (client %s) exited with code %d. If nemo-lsp is not installed for that command: %s'):format(
          tostring(client_id),
          code,
          INSTALL_HINT
        ),
        vim.log.levels.ERROR
      )
    end)
  end
end

--- The nemo client attached to `bufnr` (default: current buffer), or nil.
---@return vim.lsp.Client?
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'nemo' })[1]
end

local function attached_buffers(client)
  local out = {}
  for buf in pairs(client.attached_buffers or {}) do
    if vim.api.nvim_buf_is_loaded(buf) then
      out[#out + 1] = buf
    end
  end
  return out
end

--- Ask the server for the code lenses of `bufnr` again (the run's outcome lives in a lens).
function M.refresh_lenses(bufnr)
  if not M.options.codelens or not vim.api.nvim_buf_is_loaded(bufnr) or not M.client(bufnr) then
    return
  end
  vim.lsp.codelens.refresh({ bufnr = bufnr })
end

-- workspace/executeCommand with the per-client handler (0.11: Client:exec_cmd; 0.10: request).
local function exec(client, command, bufnr, handler)
  if has_011 then
    client:exec_cmd(command, { bufnr = bufnr }, handler)
  else
    client.request('workspace/executeCommand', { command = command.command, arguments = command.arguments },
      handler, bufnr)
  end
end

local TITLES = {
  solve = 'Solve',
  regenerate = 'Regenerate the optimizer and simulator',
  open_optimizer = 'Open the generated optimizer',
  open_simulator = 'Open the generated simulator',
  open_log = "Open the last run's log",
  show_report = "Show the last run's report",
  repair_optimizer = 'Repair the optimizer',
  repair_simulator = 'Repair the simulator',
}

--- Run server command `name` (a key of M.commands) for buffer `bufnr` (default: current).
---@param name string
---@param bufnr? integer
---@param handler? function  lsp-handler for the result (default: the client's handler).
---@param extra? any[]       arguments after the buffer's URI (e.g. a finding id for repairs).
---@return boolean sent
function M.run_command(name, bufnr, handler, extra)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local id = M.commands[name]
  assert(id, 'unknown nemo command ' .. tostring(name))
  local client = M.client(bufnr)
  if not client then
    local file = vim.api.nvim_buf_get_name(bufnr)
    local why = file:match('%.opt%.md$') and 'the language server is not running (see :checkhealth nemo)'
      or 'this buffer is not an .opt.md spec'
    notify(('no nemo-lsp client is attached to this buffer: %s'):format(why), vim.log.levels.WARN)
    return false
  end
  if handler == nil and name == 'show_report' then
    handler = function(err, result, ctx)
      if err then
        return M._on_command_result(err, result, ctx)
      end
      M.show_report(result, bufnr)
    end
  end
  local arguments = { vim.uri_from_bufnr(bufnr) }
  vim.list_extend(arguments, extra or {})
  local command = { title = TITLES[name] or name, command = id, arguments = arguments }
  exec(client, command, bufnr, handler)
  return true
end

local OPEN = { optimizer = 'open_optimizer', simulator = 'open_simulator', log = 'open_log' }

--- Open the generated optimizer or simulator, or the last run's log (`:NemoOpen`).
---@param what 'optimizer'|'simulator'|'log'
---@param bufnr? integer
---@return boolean sent
function M.open(what, bufnr)
  local name = OPEN[what or '']
  if not name then
    notify(('`:NemoOpen %s`: expected optimizer, simulator or log'):format(tostring(what or '')), vim.log.levels.ERROR)
    return false
  end
  return M.run_command(name, bufnr)
end

--- The finding id (diagnostic `data.id`) of a nemo diagnostic.
local function finding_id(d)
  local lsp = d.user_data and d.user_data.lsp
  local data = lsp and lsp.data
  return type(data) == 'table' and type(data.id) == 'string' and data.id or nil
end

--- The nemo diagnostic under the cursor in `bufnr` (default: current), else its first one.
---@param bufnr? integer
---@return vim.Diagnostic?
function M.diagnostic(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'nemo' and finding_id(d) then
      found[#found + 1] = d
    end
  end
  table.sort(found, function(a, b)
    return a.lnum == b.lnum and a.col < b.col or a.lnum < b.lnum
  end)
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    local pos = vim.api.nvim_win_get_cursor(win)
    local row, col = pos[1] - 1, pos[2]
    for _, d in ipairs(found) do
      local end_lnum = d.end_lnum or d.lnum
      local end_col = d.end_col or d.col
      local after_start = row > d.lnum or (row == d.lnum and col >= d.col)
      local before_end = row < end_lnum or (row == end_lnum and col <= end_col)
      if after_start and before_end then
        return d
      end
    end
  end
  return found[1]
end

--- Repair the optimizer (or the simulator) for the nemo diagnostic under the cursor, else the
--- buffer's first nemo diagnostic (`:NemoRepair`): runs nemo.repairOptimizer with the buffer's
--- URI and the diagnostic's finding id (`data.id`).
---@param role? 'optimizer'|'simulator'
---@param bufnr? integer
---@return boolean sent
function M.repair(role, bufnr)
  role = role or 'optimizer'
  if role ~= 'optimizer' and role ~= 'simulator' then
    notify(('`:NemoRepair %s`: expected optimizer or simulator'):format(tostring(role)), vim.log.levels.ERROR)
    return false
  end
  local d = M.diagnostic(bufnr)
  return M.run_command('repair_' .. role, bufnr, nil, d and { finding_id(d) } or nil)
end

--- Lines of a human-readable report for the JSON of `nemo.showReport`.
---@param r table
---@return string[]
function M.format_report(r)
  local function num(v)
    if type(v) ~= 'number' then
      return tostring(v)
    end
    if math.abs(v - math.floor(v + 0.5)) < 1e-9 then
      return string.format('%d', math.floor(v + 0.5))
    end
    return string.format('%.6g', v)
  end
  local function key(idx)
    if type(idx) == 'table' then
      local parts = {}
      for _, p in ipairs(idx) do
        parts[#parts + 1] = tostring(p)
      end
      return table.concat(parts, ', ')
    end
    return idx == nil and '' or tostring(idx)
  end
  local sol = type(r.solution) == 'table' and r.solution or {}
  local val = type(r.validation) == 'table' and r.validation or nil
  local lines = {
    '# nemo: ' .. vim.fn.fnamemodify(tostring(r.spec or '?'), ':t'),
    '',
    ('outcome     %s%s'):format(tostring(r.outcome), r.agent and ('  (agent: ' .. tostring(r.agent) .. ')') or ''),
  }
  if r.status ~= nil and r.status ~= vim.NIL then
    local solver = sol.solver and sol.solver ~= vim.NIL
        and ('  (' .. tostring(sol.solver) .. ' ' .. tostring(sol.solver_version or '') .. ')')
      or ''
    lines[#lines + 1] = ('status      %s%s'):format(tostring(r.status), solver)
  end
  if type(r.objective) == 'number' then
    local sense = sol.sense and sol.sense ~= vim.NIL and ('  (' .. tostring(sol.sense) .. ')') or ''
    lines[#lines + 1] = ('objective   %s%s'):format(num(r.objective), sense)
  end
  if val then
    local same = type(val.objective) == 'number' and ('simulator objective ' .. num(val.objective)) or ''
    lines[#lines + 1] = ('validation  %s, %d checks%s'):format(
      val.feasible and 'feasible' or 'INFEASIBLE',
      tonumber(val.checked) or 0,
      same ~= '' and ('; ' .. same) or ''
    )
    for _, v in ipairs(type(val.violations) == 'table' and val.violations or {}) do
      lines[#lines + 1] = '  violated: ' .. (type(v) == 'table' and vim.inspect(v, { newline = ' ', indent = '' }) or tostring(v))
    end
  end
  if type(r.expect) == 'table' then
    local e = r.expect
    local what = e.objective ~= nil and num(e.objective) or tostring(e.status or '')
    lines[#lines + 1] = ('expected    %s%s'):format(what, e.source and ('  (' .. tostring(e.source) .. ')') or '')
  end
  if type(r.timings) == 'table' and type(r.timings.total) == 'number' then
    lines[#lines + 1] = ('time        %.2f s'):format(r.timings.total)
  end
  if r.isolation and r.isolation ~= vim.NIL then
    lines[#lines + 1] = 'isolation   ' .. tostring(r.isolation)
  end
  if type(sol.decisions) == 'table' and next(sol.decisions) then
    lines[#lines + 1] = ''
    lines[#lines + 1] = '## Decisions (nonzero)'
    lines[#lines + 1] = ''
    local names = vim.tbl_keys(sol.decisions)
    table.sort(names)
    for _, name in ipairs(names) do
      local values = sol.decisions[name]
      if type(values) == 'table' then
        for _, pair in ipairs(values) do
          if type(pair) == 'table' and type(pair[2]) == 'number' and math.abs(pair[2]) > 1e-9 then
            lines[#lines + 1] = ('  %-12s %-16s %s'):format(name, key(pair[1]), num(pair[2]))
          end
        end
      elseif type(values) == 'number' and math.abs(values) > 1e-9 then
        lines[#lines + 1] = ('  %-12s %-16s %s'):format(name, '', num(values))
      end
    end
  end
  if type(r.findings) == 'table' and #r.findings > 0 then
    lines[#lines + 1] = ''
    lines[#lines + 1] = '## Findings'
    lines[#lines + 1] = ''
    for _, f in ipairs(r.findings) do
      if type(f) == 'table' then
        lines[#lines + 1] = ('- %s %s: %s'):format(tostring(f.severity or ''), tostring(f.code or ''), tostring(f.message or ''))
      end
    end
  end
  if type(r.files) == 'table' and next(r.files) then
    lines[#lines + 1] = ''
    lines[#lines + 1] = '## Files'
    lines[#lines + 1] = ''
    local order = { optimizer = 1, simulator = 2, data = 3, run = 4 }
    local roles = vim.tbl_keys(r.files)
    table.sort(roles, function(a, b)
      local x, y = order[a] or 99, order[b] or 99
      return x == y and a < b or x < y
    end)
    for _, role in ipairs(roles) do
      lines[#lines + 1] = ('  %-10s %s'):format(role, tostring(r.files[role]))
    end
  end
  -- Keep the buffer free of embedded newlines (nvim_buf_set_lines rejects them).
  local out = {}
  for _, l in ipairs(lines) do
    vim.list_extend(out, vim.split(l, '\n', { plain = true }))
  end
  return out
end

--- Show a report (the JSON of `nemo.showReport`) in a scratch window at the bottom.
function M.show_report(report, source_buf)
  if report == nil or report == vim.NIL then
    local name = source_buf and vim.fn.fnamemodify(vim.api.nvim_buf_get_name(source_buf), ':t') or 'this file'
    notify(('no run yet for %s: save it or run :NemoSolve'):format(name))
    return
  end
  local lines = M.format_report(report)
  local name = 'nemo://report/' .. vim.fn.fnamemodify(tostring(report.spec or 'spec'), ':t')
  local buf = vim.fn.bufnr(name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].filetype = 'markdown'
    vim.keymap.set('n', 'q', function()
      if #vim.api.nvim_tabpage_list_wins(0) > 1 then
        vim.cmd.close()
      else
        vim.cmd.bwipeout()
      end
    end, { buffer = buf, silent = true, desc = 'Close the nemo report' })
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd('botright ' .. math.min(#lines + 1, 20) .. 'split')
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
  else
    vim.api.nvim_set_current_win(win)
  end
  return buf
end

--- Default result handler of nemo's workspace/executeCommand requests.
function M._on_command_result(err, result, ctx)
  if err then
    notify(('command failed: %s'):format(err.message or vim.inspect(err)), vim.log.levels.ERROR)
    return
  end
  local command = ctx and ctx.params and ctx.params.command
  if command == M.commands.show_report then
    M.show_report(result, ctx.bufnr)
  elseif command == M.commands.solve or command == M.commands.regenerate then
    if type(result) == 'table' and result.started == false then
      notify(tostring(result.reason or 'the run did not start'), vim.log.levels.WARN)
    end
    if ctx.bufnr then
      M.refresh_lenses(ctx.bufnr) -- shows "solving..."
    end
  end
  -- open*/repair*: the server opens the file (window/showDocument) or explains (window/showMessage).
end

-- Progress ------------------------------------------------------------------------------------

local titles = {} ---@type table<string, string>
local run_buffers = {} ---@type table<string, integer[]>  progress token -> buffers of that run
--- Per buffer: the run in progress, or the last outcome (fed by LspProgress).
---@type table<integer, { running: boolean, message?: string, percentage?: integer, outcome?: string }>
M._status = {}

--- Buffers of `client` whose file is `name` (the progress title names the spec's file).
local function buffers_named(client, name)
  local out = {}
  for _, buf in ipairs(attached_buffers(client)) do
    if vim.fs.basename(vim.api.nvim_buf_get_name(buf)) == name then
      out[#out + 1] = buf
    end
  end
  return out
end

--- A short statusline item for buffer `bufnr` (default: current): `nemo: 45% solving ...` while a
--- run is in progress, `nemo: validated` (the last outcome) after it, '' otherwise. Fed by
--- LspProgress; use it in 'statusline' as `%{v:lua.require'nemo'.status()}`.
---@param bufnr? integer
---@return string
function M.status(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local st = M._status[bufnr]
  if not st then
    return ''
  end
  if st.running then
    local pct = st.percentage and (' %d%%'):format(st.percentage) or ''
    return (('nemo:%s %s'):format(pct, st.message or 'solving'):gsub('%s+$', ''))
  end
  return 'nemo: ' .. (st.outcome or '')
end

local function update_status(client, token, value)
  if value.kind == 'begin' then
    local name = (value.title or ''):match('^nemo: solving (.+)$')
    run_buffers[token] = name and buffers_named(client, name) or {}
  end
  for _, buf in ipairs(run_buffers[token] or {}) do
    if value.kind == 'end' then
      M._status[buf] = { running = false, outcome = value.message }
    else
      local st = M._status[buf] or {}
      M._status[buf] = {
        running = true,
        message = value.message or (value.kind == 'begin' and 'solving') or st.message,
        percentage = value.percentage or st.percentage,
      }
    end
  end
  if value.kind == 'end' then
    run_buffers[token] = nil
  end
  pcall(vim.cmd.redrawstatus)
end

local function show_progress(kind, title, value)
  local mode = M.options.progress
  if not mode then
    return
  end
  local text = title or 'nemo'
  if value.message and value.message ~= '' then
    text = text .. ': ' .. value.message
  end
  if value.percentage and kind == 'report' then
    text = ('%s (%d%%)'):format(text, value.percentage)
  end
  if mode == 'notify' then
    if kind == 'begin' then
      vim.notify(text, vim.log.levels.INFO)
    elseif kind == 'end' then
      local good = value.message == 'validated' or value.message == 'expected'
      vim.notify(text, good and vim.log.levels.INFO or vim.log.levels.WARN)
    end
  else
    -- A short echo; only the outcome goes to :messages.
    vim.api.nvim_echo({ { vim.fn.strcharpart(text, 0, math.max(20, vim.v.echospace)) } }, kind == 'end', {})
  end
end

--- LspProgress handler (installed by plugin/nemo.lua).
function M._on_progress(ev)
  local data = ev.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= 'nemo' then
    return
  end
  local params = data.params or {}
  local value = params.value
  if type(value) ~= 'table' then
    return
  end
  local token = tostring(params.token)
  if value.kind == 'begin' then
    titles[token] = value.title
  end
  update_status(client, token, value)
  show_progress(value.kind, titles[token] or value.title, value)
  if value.kind == 'end' then
    titles[token] = nil
  end
  if value.kind == 'begin' or value.kind == 'end' then
    for _, buf in ipairs(attached_buffers(client)) do
      M.refresh_lenses(buf)
    end
  end
end

-- Attach --------------------------------------------------------------------------------------

--- Buffer-local code-lens refresh (installed for every buffer a nemo client attaches to).
function M._on_attach(client, bufnr)
  local group = vim.api.nvim_create_augroup('nemo.buffer.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
    group = group,
    buffer = bufnr,
    desc = 'nemo: refresh code lenses',
    callback = function(ev)
      M.refresh_lenses(ev.buf)
    end,
  })
  -- The first lint (and each later one outside insert mode) moves the lenses: fetch them again.
  vim.api.nvim_create_autocmd('DiagnosticChanged', {
    group = group,
    buffer = bufnr,
    desc = 'nemo: refresh code lenses after a lint',
    callback = function(ev)
      if not vim.api.nvim_get_mode().mode:match('^i') then
        M.refresh_lenses(ev.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = group,
    buffer = bufnr,
    callback = function(ev)
      if ev.data and ev.data.client_id == client.id then
        M._status[bufnr] = nil
        pcall(vim.lsp.codelens.clear, client.id, bufnr)
        pcall(vim.api.nvim_del_augroup_by_id, group)
      end
    end,
  })
  M.refresh_lenses(bufnr)
end

-- Setup ---------------------------------------------------------------------------------------

--- The client configuration for vim.lsp.start (0.10 path): lsp/nemo.lua + options.
local function legacy_config(bufnr)
  local cfg = vim.tbl_deep_extend('force', base_config(), M._lsp_opts or {})
  cfg.name = 'nemo'
  local markers = cfg.root_markers or { '.git', 'pyproject.toml' }
  if type(cfg.root_dir) ~= 'string' then
    cfg.root_dir = vim.fs.root(bufnr, markers)
  end
  cfg.root_markers = nil
  cfg.filetypes = nil
  if cfg.init_options == nil and type(cfg.settings) == 'table' and next(cfg.settings) then
    cfg.init_options = cfg.settings
  end
  cfg.before_init = nil
  return cfg
end

--- Start (or reuse) the nemo client for `bufnr` with vim.lsp.start (used on Neovim 0.10).
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local cfg = legacy_config(bufnr)
  if not M.check_cmd(cfg.cmd) then
    return nil
  end
  return vim.lsp.start(cfg, { bufnr = bufnr })
end

--- Configure and start nemo-lsp for `optmd` buffers. Calling it again replaces the options.
---@param opts? nemo.Options
function M.setup(opts)
  opts = opts or {}
  assert(type(opts) == 'table', 'nemo.setup: opts must be a table')
  require('nemo.filetype').register()
  M.options = vim.tbl_extend('force', vim.deepcopy(M.defaults), opts)
  if M.options.native and not has_011 then
    M.options.native = false
  end

  local lsp_opts = {}
  for _, k in ipairs(LSP_KEYS) do
    if opts[k] ~= nil then
      lsp_opts[k] = opts[k]
    end
  end
  if lsp_opts.settings ~= nil then
    lsp_opts.settings = normalize_settings(lsp_opts.settings)
  end
  M._lsp_opts = lsp_opts

  local group = vim.api.nvim_create_augroup('nemo.start', { clear = true })
  if M.options.native then
    vim.lsp.config('nemo', lsp_opts)
    vim.lsp.enable('nemo', M.options.enable ~= false)
    -- Buffers opened before setup() (lazy loading on `ft = 'optmd'`). After start-up
    -- vim.lsp.enable() re-runs FileType for them itself; during start-up (VimEnter not yet
    -- fired) it does not, so do it for the optmd buffers.
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == 'optmd' then
        M._check_enabled(buf)
        if M.options.enable ~= false and vim.v.vim_did_enter == 0 and not M.client(buf) then
          pcall(vim.api.nvim_exec_autocmds, 'FileType', { group = 'nvim.lsp.enable', buffer = buf, modeline = false })
        end
      end
    end
    return
  end
  if has_011 and vim.lsp.is_enabled('nemo') then
    vim.lsp.enable('nemo', false) -- switching from native = true
  end
  if M.options.enable == false then
    return
  end
  local filetypes = lsp_opts.filetypes or base_config().filetypes or { 'optmd' }
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = filetypes,
    desc = 'nemo: start nemo-lsp',
    callback = function(ev)
      M.start(ev.buf)
    end,
  })
  -- Buffers opened before setup() (lazy loading) get a client too.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(filetypes, vim.bo[buf].filetype) then
      M.start(buf)
    end
  end
end

return M
