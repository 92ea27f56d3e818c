import { describe, expect, it } from '@jest/globals';
import { ormOptions } from '../../src/db/orm.js';

describe('ORM options from DATABASE_URL', () => {
  it('connects through a Unix socket directory named in the URL, as libpq URLs do', () => {
    const options = ormOptions({ url: 'postgres://postgres@localhost/eventbook?host=/var/run/postgresql', poolMax: 5 });
    expect(options).toMatchObject({ host: '/var/run/postgresql' });
  });

  it('leaves TCP URLs to the URL itself', () => {
    const options = ormOptions({ url: 'postgres://postgres@127.0.0.1:5432/eventbook', poolMax: 5 });
    expect(options).not.toHaveProperty('host');
  });
});
