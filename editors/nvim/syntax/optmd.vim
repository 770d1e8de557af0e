" Vim syntax file
" Language:  nemo optimization spec (*.opt.md)
" Reuses Markdown's syntax; the ```model block is highlighted as YAML and ```json data blocks as
" JSON. When tree-sitter highlighting is on for the buffer (optmd is registered to the markdown
" parser), this file is not used.

if exists('b:current_syntax')
  finish
endif

let s:had_fenced = exists('g:markdown_fenced_languages')
let s:saved = copy(get(g:, 'markdown_fenced_languages', []))
let g:markdown_fenced_languages = copy(s:saved)
if empty(filter(copy(s:saved), 'v:val =~# "^model="'))
  call add(g:markdown_fenced_languages, 'model=yaml')
endif
if index(s:saved, 'json') < 0
  call add(g:markdown_fenced_languages, 'json')
endif

runtime! syntax/markdown.vim

if s:had_fenced
  let g:markdown_fenced_languages = s:saved
else
  unlet g:markdown_fenced_languages
endif
unlet s:had_fenced s:saved

let b:current_syntax = 'optmd'
