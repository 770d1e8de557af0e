-- Filetype detection of the nemo Neovim plugin, run by tests/editors/test_nvim.py:
--   nvim --headless --clean --cmd 'set rtp^=PLUGIN' -l filetype.lua WORKDIR
-- The plugin is on 'runtimepath' before startup, as with a package manager, so its ftdetect/ and
-- plugin/ files are loaded by Neovim itself. With `--without-plugin` (and no rtp change) it checks
-- that stock Neovim calls these files `markdown`, so the plugin is what makes them `optmd`.
local workdir = assert(arg[1], 'usage: filetype.lua WORKDIR [--without-plugin]')
local without_plugin = arg[2] == '--without-plugin'
local failures = {}

local function check(what, got, want)
  if got ~= want then
    failures[#failures + 1] = ('%s: got %s, want %s'):format(what, vim.inspect(got), vim.inspect(want))
  else
    print(('ok  %s = %s'):format(what, vim.inspect(got)))
  end
end

local function open(name, text)
  local path = workdir .. '/' .. name
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  vim.fn.writefile(vim.split(text, '\n'), path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  return vim.api.nvim_get_current_buf()
end

local function finish()
  if #failures > 0 then
    io.stderr:write('FAILED\n' .. table.concat(failures, '\n') .. '\n')
    os.exit(1)
  end
  print('all filetype checks passed')
  os.exit(0)
end

if without_plugin then
  check('stock Neovim: vim.filetype.match x.opt.md', vim.filetype.match({ filename = 'x.opt.md' }), 'markdown')
  check('stock Neovim: :NemoSolve exists', vim.fn.exists(':NemoSolve'), 0)
  finish()
end

check('vim.filetype.match x.opt.md', vim.filetype.match({ filename = 'x.opt.md' }), 'optmd')
check('vim.filetype.match dir/x.opt.md', vim.filetype.match({ filename = '/some/dir/plan.opt.md' }), 'optmd')
check('vim.filetype.match x.md', vim.filetype.match({ filename = 'x.md' }), 'markdown')
check('vim.filetype.match xopt.md', vim.filetype.match({ filename = 'notopt.md' }), 'markdown')

local spec = open('specs/x.opt.md', '# A plan\n\nSome prose.\n\n```model\nsets:\n  S: [a, b]\n```\n')
check('&filetype of x.opt.md', vim.bo[spec].filetype, 'optmd')
check('b:current_syntax of x.opt.md', vim.b[spec].current_syntax, 'optmd')
check('&commentstring of x.opt.md (markdown ftplugin)', vim.bo[spec].commentstring, '<!-- %s -->')
check('tree-sitter language of optmd', vim.treesitter.language.get_lang('optmd'), 'markdown')
local ok_parser, parser = pcall(vim.treesitter.get_parser, spec)
check('tree-sitter parser for the optmd buffer', ok_parser and parser and parser:lang() or tostring(parser), 'markdown')
-- The ```model block uses YAML syntax in the regex-syntax fallback.
local model_line = vim.fn.search('^  S:', 'n')
local names = {}
for _, id in ipairs(vim.fn.synstack(model_line, 3)) do
  names[#names + 1] = vim.fn.synIDattr(id, 'name')
end
check('model block syntax is YAML', table.concat(names, ' '):find('markdownHighlight_yaml', 1, true) ~= nil, true)
check('g:markdown_fenced_languages restored', vim.g.markdown_fenced_languages, nil)

local md = open('x.md', '# Notes\n')
check('&filetype of x.md', vim.bo[md].filetype, 'markdown')
check('b:current_syntax of x.md', vim.b[md].current_syntax, 'markdown')

check(':NemoSolve exists', vim.fn.exists(':NemoSolve'), 2)
check(':NemoReport exists', vim.fn.exists(':NemoReport'), 2)

finish()
