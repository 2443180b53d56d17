// The pure text rules of src/domain/rules.ts, one by one.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  cleanDisplayName,
  handleFrom,
  hasVisibleCharacter,
  validateClientMessageId,
  validateMessageText,
  validateOrganizationName,
} from '../../src/domain/rules.ts';

const limits = loadConfig({}).limits;
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return null;
};

describe('text rules', () => {
  it.each([
    ['a', true],
    ['😀', true],
    ['שלום', true],
    ['\u00a0\u2003\u3000', false], // spaces of every width
    ['\u200b\u200c\u200d\u2060\ufeff', false], // zero-width characters
    ['\u202e\u2066', false], // bidi controls
    ['\u3164\u115f\u2800', false], // fillers and the blank braille pattern
    ['\u0301\ufe0f', false], // marks with nothing to sit on
    ['\u0000\u001b', false],
  ])('%j has a visible character: %s', (text, visible) => {
    expect(hasVisibleCharacter(text)).toBe(visible);
  });

  it('refuses organization names with controls, bidi controls, line breaks, lone surrogates or nothing visible; trims the rest', () => {
    for (const name of ['a\u0000', 'a\u0085', '\u202ea', 'a\u2028b', 'a\ud800', '\u200b', ' ', 'x'.repeat(81)]) {
      expect(refusal(() => validateOrganizationName(name))).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'name' } });
    }
    expect(validateOrganizationName('  Acme\u200dCo  ')).toBe('Acme\u200dCo');
    expect(validateOrganizationName('😀'.repeat(80))).toBe('😀'.repeat(80)); // 80 characters, 160 UTF-16 units
  });

  it('refuses message texts without a visible character or with a lone surrogate; counts characters, not UTF-16 units', () => {
    for (const text of ['', ' \n\t', '\u200b', '\ud83d', 'ok \udc00']) {
      expect(refusal(() => validateMessageText(text, limits))).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect(validateMessageText('😀'.repeat(limits.messageMaxLength), limits)).toHaveLength(2 * limits.messageMaxLength);
    expect(refusal(() => validateMessageText('😀'.repeat(limits.messageMaxLength + 1), limits))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('refuses client message ids with control characters or lone surrogates', () => {
    for (const id of ['', 'x'.repeat(129), 'a\u0000', 'a\ud800']) {
      expect(refusal(() => validateClientMessageId(id))).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'clientMessageId' } });
    }
    expect(validateClientMessageId('2f9c-é-😀')).toBe('2f9c-é-😀');
  });

  it('cleans display names: whitespace runs as one space, no controls or format characters but the emoji joiner, at most 80', () => {
    expect(cleanDisplayName('  Ann\t\n Lee\u202e\u0007 ')).toBe('Ann Lee');
    expect(cleanDisplayName('👩\u200d💻 dev\u200b')).toBe('👩\u200d💻 dev');
    expect(cleanDisplayName('\u200b\u202e \u3164')).toBeNull();
    expect(cleanDisplayName(`a\ud800b${'😀'.repeat(100)}`)).toBe(`ab${'😀'.repeat(78)}`);
  });

  it('derives handles from letters, digits, ".", "_" and "-", at most 40, else from the fallback, else "user"', () => {
    expect(handleFrom('Ann Lee', 'sub')).toBe('AnnLee');
    expect(handleFrom('josé.garcía_2-b', 'sub')).toBe('josé.garcía_2-b');
    expect(handleFrom('x'.repeat(100), 'sub')).toBe('x'.repeat(40));
    expect(handleFrom('😀 \u202e', 'auth0|42')).toBe('auth042');
    expect(handleFrom('', '|||')).toBe('user');
  });
});
