// Table tests for the duplicate-key scanner behind the email request endpoints (CVE-2023-7028 class).
import t from 'tap';
import { findDuplicateKey } from '../../proxy/http/body.js';

const cases: Array<[string, string | null]> = [
  ['{"email":"a@x.io"}', null],
  ['{"email":"a@x.io","email":"b@x.io"}', 'email'],
  ['{"email":"a@x.io","em\\u0061il":"b@x.io"}', 'email'],
  ['{"a":{"email":1,"email":2}}', 'email'],
  ['{"a":{"email":1},"b":{"email":2}}', null],
  ['{"a":[{"k":1},{"k":2}]}', null],
  ['{"a":"\\"email\\"","email":"x"}', null],
  ['{"list":["email","email"]}', null],
  ['{"a":1,"b":{"c":[1,{"d":1,"d":2}]}}', 'd'],
  ['{"k\\\\":1,"k":2}', null],
  ['{}', null],
  ['[]', null],
];

for (const [json, expected] of cases) t.equal(findDuplicateKey(json), expected, json);

t.test('nesting beyond the limit is refused', async (t) => {
  t.throws(() => findDuplicateKey('['.repeat(40) + ']'.repeat(40), 32), { code: 'ERR_JSON_TOO_DEEP' });
});
