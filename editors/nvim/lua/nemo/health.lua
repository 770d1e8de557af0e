--- :checkhealth nemo
local M = {}

function M.check()
  local health = vim.health
  health.start('nemo: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()) .. ': vim.lsp.config / vim.lsp.enable')
  elseif vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()) .. ': vim.lsp.start on FileType (0.10 mode)')
  else
    health.error('Neovim 0.10 or newer is required')
  end
  local ft = vim.filetype.match({ filename = 'x.opt.md' })
  if ft == 'optmd' then
    health.ok('*.opt.md files get filetype optmd')
  else
    health.error(('*.opt.md files get filetype %s, not optmd: is editors/nvim on the runtimepath?'):format(tostring(ft)))
  end

  health.start('nemo: language server')
  local cmd
  if vim.fn.has('nvim-0.11') == 1 and require('nemo').options.native then
    cmd = (vim.lsp.config.nemo or {}).cmd
  else
    local file = vim.api.nvim_get_runtime_file('lsp/nemo.lua', false)[1]
    cmd = vim.tbl_get(require('nemo')._lsp_opts or {}, 'cmd') or (file and dofile(file).cmd)
  end
  if type(cmd) ~= 'table' then
    health.info('cmd is ' .. type(cmd) .. ' (not checked)')
    return
  end
  health.info('cmd = ' .. vim.inspect(cmd))
  if vim.fn.executable(cmd[1]) ~= 1 then
    health.error(('`%s` is not executable'):format(cmd[1]), {
      'python -m pip install nemo-lsp   (or: pip install -e . in a nemo-lsp checkout)',
      "or: require('nemo').setup({ cmd = { '/path/to/python', '-m', 'nemo_lsp' } })",
    })
    return
  end
  local argv = vim.list_extend(vim.deepcopy(cmd), { '--version' })
  local ok, res = pcall(function()
    return vim.system(argv, { text = true }):wait(20000)
  end)
  if ok and res.code == 0 then
    health.ok(vim.trim(res.stdout ~= '' and res.stdout or res.stderr))
  else
    health.error(('`%s --version` failed: %s'):format(table.concat(cmd, ' '),
      ok and vim.trim((res.stderr or '') .. (res.stdout or '')) or tostring(res)),
      { 'python -m pip install nemo-lsp   (or: pip install -e . in a nemo-lsp checkout)' })
  end
  local clients = vim.lsp.get_clients({ name = 'nemo' })
  health.info(('%d nemo client(s) running'):format(#clients))
end

return M
