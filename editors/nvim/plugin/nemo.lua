-- nemo.nvim: :Nemo* commands, code-lens refresh and run progress for nemo-lsp clients.
-- The server itself starts through require('nemo').setup() or vim.lsp.enable('nemo') (0.11+).
if vim.g.loaded_nemo then
  return
end
vim.g.loaded_nemo = true

if vim.fn.has('nvim-0.10') ~= 1 then
  vim.notify_once('nemo: this plugin needs Neovim 0.10 or newer', vim.log.levels.WARN)
  return
end

require('nemo.filetype').register()

local commands = {
  NemoSolve = { 'solve', 'Solve this spec now (nemo.solve)' },
  NemoRegenerate = { 'regenerate', 'Regenerate the optimizer and simulator, then solve (nemo.regenerate)' },
  NemoReport = { 'show_report', "Show the last run's report (nemo.showReport)" },
  -- Aliases of :NemoOpen optimizer|simulator|log.
  NemoOpenOptimizer = { 'open_optimizer', 'Open the generated optimizer (nemo.openOptimizer)' },
  NemoOpenSimulator = { 'open_simulator', 'Open the generated simulator (nemo.openSimulator)' },
  NemoOpenLog = { 'open_log', "Open the last run's optimizer log (nemo.openLog)" },
}
for name, spec in pairs(commands) do
  vim.api.nvim_create_user_command(name, function()
    require('nemo').run_command(spec[1])
  end, { desc = 'nemo: ' .. spec[2] })
end

--- Completion for a command whose one argument is one of `words`.
local function complete(words)
  return function(arglead)
    return vim.tbl_filter(function(w)
      return vim.startswith(w, arglead)
    end, words)
  end
end

vim.api.nvim_create_user_command('NemoOpen', function(opts)
  require('nemo').open(opts.fargs[1])
end, {
  nargs = 1,
  complete = complete({ 'optimizer', 'simulator', 'log' }),
  desc = "nemo: open the generated optimizer or simulator, or the last run's log (nemo.open*)",
})

vim.api.nvim_create_user_command('NemoRepair', function(opts)
  require('nemo').repair(opts.fargs[1])
end, {
  nargs = '?',
  complete = complete({ 'optimizer', 'simulator' }),
  desc = 'nemo: repair the optimizer (or simulator) for the diagnostic under the cursor (nemo.repair*)',
})

local group = vim.api.nvim_create_augroup('nemo', { clear = true })
vim.api.nvim_create_autocmd('LspAttach', {
  group = group,
  desc = 'nemo: code lenses for nemo-lsp buffers',
  callback = function(ev)
    local client = ev.data and vim.lsp.get_client_by_id(ev.data.client_id)
    if client and client.name == 'nemo' then
      require('nemo')._on_attach(client, ev.buf)
    end
  end,
})
-- Neovim 0.11 silently skips an enabled config whose cmd is not executable (only the LSP log says
-- so): tell the user how to install the server instead.
vim.api.nvim_create_autocmd('FileType', {
  group = group,
  pattern = 'optmd',
  desc = 'nemo: say how to install nemo-lsp when it is missing',
  callback = function(ev)
    require('nemo')._check_enabled(ev.buf)
  end,
})
vim.api.nvim_create_autocmd('LspProgress', {
  group = group,
  desc = 'nemo: show run progress, feed require("nemo").status(), refresh lenses when a run ends',
  callback = function(ev)
    require('nemo')._on_progress(ev)
  end,
})
