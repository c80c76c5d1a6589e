// Node's mysql2 against a running stripesql (the demo): execute() (the
// binary protocol, server-side prepared statements), a pool, changeUser,
// and sequelize's create() (mysql dialect over mysql2). Run by
// clients/run; STRIPESQL_PORT names the server's port. Exits non-zero on
// the first failed check.
'use strict';
const mysql = require('mysql2/promise');

function check(ok, what) {
  if (!ok) {
    console.error('FAIL node: ' + what);
    process.exit(1);
  }
}

async function stripeRequests(c) {
  const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Stripe_requests'");
  return Number(rows[0].Value);
}

async function main() {
  const opts = {
    host: process.env.STRIPESQL_HOST || '127.0.0.1',
    port: Number(process.env.STRIPESQL_PORT),
    user: 'root',
    database: 'stripe',
    // DECIMAL as strings (mysql2's default): exact, never a float.
    decimalNumbers: false,
  };
  const c = await mysql.createConnection(opts);

  const [charges] = await c.query('SELECT Id, Amount, Created FROM Charges ORDER BY Id');
  check(charges.length > 10, charges.length + ' charges');
  check(charges.every((r) => r.Created instanceof Date), 'Created is a Date');
  const expected = charges.reduce((s, r) => s + BigInt(r.Amount), 0n);

  // Binary protocol: execute() prepares on the server and binds parameters.
  const [one, fields] = await c.execute('SELECT Id, Amount, Created FROM Charges WHERE Id = ? AND Amount >= ?', [charges[0].Id, 0]);
  check(one.length === 1 && one[0].Id === charges[0].Id, 'execute lookup: ' + JSON.stringify(one));
  check(typeof one[0].Amount === 'number' && one[0].Created instanceof Date, 'binary row types');
  check(fields[1].columnType === 8 /* LONGLONG */, 'Amount column type ' + fields[1].columnType);

  const [[agg], aggFields] = await c.execute('SELECT SUM(Amount) AS s, AVG(Amount) AS a FROM Charges WHERE Amount >= ?', [0]);
  check(aggFields[0].columnType === 246 /* NEWDECIMAL */, 'SUM column type ' + aggFields[0].columnType);
  check(typeof agg.s === 'string' && BigInt(agg.s) === expected, 'SUM ' + agg.s + ', want ' + expected);
  check(/^\d+\.\d{4}$/.test(agg.a), 'AVG ' + agg.a);

  // Metadata queries cost no Stripe call.
  const before = await stripeRequests(c);
  const [fks] = await c.query(
    "SELECT COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE " +
    "WHERE TABLE_SCHEMA = 'stripe' AND TABLE_NAME = 'Invoices' AND REFERENCED_TABLE_NAME IS NOT NULL");
  check(fks.some((r) => r.COLUMN_NAME === 'CustomerId' && r.REFERENCED_TABLE_NAME === 'Customers' && r.REFERENCED_COLUMN_NAME === 'Id'),
    'Invoices foreign keys ' + JSON.stringify(fks));
  await c.query('SHOW FULL COLUMNS FROM Charges');
  check(await stripeRequests(c) === before, 'metadata made Stripe requests');
  await c.end();

  // A pool: concurrent queries on several connections.
  const pool = mysql.createPool({ ...opts, connectionLimit: 4 });
  const ids = charges.slice(0, 8).map((r) => r.Id);
  const results = await Promise.all(ids.map((id) => pool.execute('SELECT Id FROM Charges WHERE Id = ?', [id])));
  check(results.every(([rows], i) => rows.length === 1 && rows[0].Id === ids[i]), 'pooled lookups');
  const [[who]] = await pool.query('SELECT CONNECTION_ID() AS n');
  check(Number(who.n) >= 1, 'pool connection');
  await pool.end();

  // changeUser (COM_CHANGE_USER), as pools that re-use a connection for
  // another account send it: the new account, a fresh session, the
  // database asked for; a wrong password is refused with 1045.
  const cu = await mysql.createConnection(opts);
  await cu.query("CREATE USER IF NOT EXISTS 'node_reader'@'%' IDENTIFIED BY 'r3ader'");
  await cu.query("GRANT SELECT ON stripe.* TO 'node_reader'@'%'");
  await cu.query("SET @before = 'root session'");
  await cu.changeUser({ user: 'node_reader', password: 'r3ader', database: 'stripe' });
  const [[asReader]] = await cu.query('SELECT CURRENT_USER() AS u, DATABASE() AS d, @before AS b, (SELECT COUNT(*) FROM Customers) AS n');
  check(asReader.u === 'node_reader@%' && asReader.d === 'stripe' && asReader.b === null && Number(asReader.n) > 0,
    'after changeUser: ' + JSON.stringify(asReader));
  let denied = null;
  try {
    await cu.query("CREATE USER 'node_other'@'%'");
  } catch (e) {
    denied = e;
  }
  check(denied !== null, 'node_reader, with SELECT only, created a user');
  // (Back to root is not tried: mysql2 takes an empty password as "the
  // last one given".)
  let refused = null;
  try {
    await cu.changeUser({ user: 'root', password: 'wrong' });
  } catch (e) {
    refused = e;
  }
  check(refused !== null && refused.errno === 1045, 'changeUser with a wrong password: ' + (refused && refused.message));
  cu.destroy();

  // sequelize create(): MySQL's OK packet carries only an integer id, and
  // sequelize's mysql dialect has no RETURNING, so the model reads the
  // new cus_… id with stripe_last_insert_id() in an afterCreate hook, on
  // the create's connection (its transaction): the pattern the README
  // documents.
  const { Sequelize, DataTypes } = require('sequelize');
  const sequelize = new Sequelize('stripe', 'root', '', {
    host: opts.host, port: opts.port, dialect: 'mysql', logging: false,
  });
  const Customer = sequelize.define('Customer', {
    Id: { type: DataTypes.STRING, primaryKey: true },
    Name: DataTypes.STRING,
    Email: DataTypes.STRING,
  }, {
    tableName: 'Customers', timestamps: false,
    hooks: {
      afterCreate: async (customer, options) => {
        if (!customer.Id) {
          const row = await sequelize.query('SELECT stripe_last_insert_id() AS id',
            { transaction: options.transaction, plain: true });
          customer.setDataValue('Id', row.id);
        }
      },
    },
  });
  const created = await sequelize.transaction((t) =>
    Customer.create({ Name: 'From sequelize', Email: 'sequelize@example.test' }, { transaction: t }));
  check(typeof created.Id === 'string' && created.Id.startsWith('cus_'), 'sequelize create() id ' + created.Id);
  const found = await Customer.findByPk(created.Id);
  check(found !== null && found.Name === 'From sequelize', 'sequelize findByPk(' + created.Id + '): ' + JSON.stringify(found));
  await sequelize.close();

  console.log('ok node: mysql2 ' + require('mysql2/package.json').version + ': ' + charges.length + ' charges, execute() SUM ' +
    agg.s + ' AVG ' + agg.a + ' (DECIMAL), ' + fks.length + ' foreign keys on Invoices at 0 Stripe calls, ' +
    ids.length + ' pooled lookups, changeUser to ' + asReader.u + ', a wrong password refused (' + refused.errno + '); sequelize ' +
    require('sequelize/package.json').version + ' create() gave ' + created.Id);
}

main().catch((e) => {
  console.error('FAIL node: ' + (e && e.stack || e));
  process.exit(1);
});
