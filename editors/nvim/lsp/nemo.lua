-- nemo-lsp, the language server for *.opt.md optimization specs (Neovim 0.11+ `vim.lsp.config`).
--
--   vim.lsp.enable('nemo')                                   -- use these defaults
--   vim.lsp.config('nemo', { cmd = { 'python3', '-m', 'nemo_lsp' } })   -- override any field
--   vim.lsp.config('nemo', { settings = { nemo = { timeLimit = 120 } } })
--
-- `require('nemo').setup(opts)` does the same for you (and also works on Neovim 0.10).
-- See :help nemo.

---@type vim.lsp.Config
return {
  cmd = { 'nemo-lsp' },
  filetypes = { 'optmd' },
  root_markers = { '.git', 'pyproject.toml' },
  -- Server settings, sent as `initializationOptions` and `workspace/didChangeConfiguration`:
  -- `{ nemo = { timeLimit = 120, runOnSave = false } }`. Keys (camelCase or snake_case): agent,
  -- sandbox, timeLimit, memoryLimit, runOnSave, lintDelayMs, watchFiles, lintBudget.
  -- See :help nemo-settings.
  settings = {},

  before_init = function(params, config)
    return require('nemo')._before_init(params, config)
  end,

  on_exit = function(code, signal, client_id)
    return require('nemo')._on_exit(code, signal, client_id)
  end,

  handlers = {
    -- Results of nemo's commands (`:NemoSolve`, lenses, code actions): show reports and reasons.
    ['workspace/executeCommand'] = function(err, result, ctx)
      return require('nemo')._on_command_result(err, result, ctx)
    end,
  },
}
