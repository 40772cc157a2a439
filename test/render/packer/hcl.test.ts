import { describe, expect, it } from 'vitest';
import { attr, blank, block, comment, list, map, printHcl, quote, raw, tmpl } from '../../../src/render/packer/hcl.js';

describe('hcl writer', () => {
  it('escapes literal strings, including template sequences', () => {
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('${x} %{if}')).toBe('"$${x} %%{if}"');
    expect(quote('line\nnext\t')).toBe('"line\\nnext\\t"');
    expect(quote('$ and % alone')).toBe('"$ and % alone"');
  });

  it('keeps interpolations in template strings and refuses ones that would need escaping', () => {
    expect(printHcl([attr('a', tmpl('${var.x}/y'))])).toBe('a = "${var.x}/y"\n');
    expect(() => printHcl([attr('a', tmpl('say "hi"'))])).toThrow(/needs no escaping/);
  });

  it('aligns = in runs of single-line attributes, as packer fmt does', () => {
    const text = printHcl([
      block('source', ['qemu', 'lb'], [
        attr('a', 1),
        attr('longer_name', true),
        attr('tags', map([['k', 'v'], ['key-two', raw('var.x')]])),
        attr('x', list(['a', 'b'])),
        blank(),
        attr('yy', list(['c'], true)),
        comment('note'),
        attr('z', 'q'),
      ]),
    ]);
    expect(text).toBe(
      [
        'source "qemu" "lb" {',
        '  a           = 1',
        '  longer_name = true',
        '  tags = {',
        '    k       = "v"',
        '    key-two = var.x',
        '  }',
        '  x = ["a", "b"]',
        '',
        '  yy = [',
        '    "c",',
        '  ]',
        '  # note',
        '  z = "q"',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('quotes object keys that are not identifiers', () => {
    expect(printHcl([attr('m', map([['a.b/c', 'x']]))])).toBe('m = {\n  "a.b/c" = "x"\n}\n');
  });
});
