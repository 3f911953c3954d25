import { describe, expect, it, vi } from 'vitest';
import { isKaizenError } from '../../src/platform/errors.js';
import { adminClient, DOMAIN_ID, newMember, unique } from './fixtures.js';

const client = adminClient();

const newUserInput = (projectId: string, name = `${unique('applicant')}@example.org`) => ({
  name,
  email: name,
  description: 'Ada Lovelace',
  password: unique('Temp!pass'),
  defaultProjectId: projectId,
  domainId: DOMAIN_ID,
});

describe('provisioning objects in Keystone', () => {
  it('creates a project, a user in it and a member role assignment', async () => {
    const { project, user, role } = await newMember(client);

    expect(await client.getProject(project.id)).toEqual(project);
    expect(project).toMatchObject({ domainId: DOMAIN_ID, description: 'test', enabled: true });
    expect(await client.getUser(user.id)).toMatchObject({
      name: user.name,
      email: user.name,
      description: 'Test Member',
      defaultProjectId: project.id,
      enabled: true,
    });
    expect(role.name).toBe('member');

    const assignments = await client.listRoleAssignments({ userId: user.id });
    expect(assignments).toEqual([
      expect.objectContaining({
        roleName: 'member',
        userId: user.id,
        projectId: project.id,
        projectName: project.name,
      }),
    ]);
    const byProject = await client.listRoleAssignments({ projectId: project.id });
    expect(byProject.map((a) => a.userId)).toEqual([user.id]);
    expect((await client.listUserProjects(user.id)).map((p) => p.id)).toEqual([project.id]);
  });

  it('answers not_found for ids Keystone does not know', async () => {
    await expect(client.getProject('0000000000000000')).rejects.toMatchObject({ kind: 'not_found' });
    await expect(client.getUser('0000000000000000')).rejects.toMatchObject({ kind: 'not_found' });
    expect(await client.findRole(unique('no-such-role'))).toBeUndefined();
  });

  it('get-or-create returns the existing objects on a second run', async () => {
    const projectInput = { name: unique('Kaizen Ensure'), description: 'first run', domainId: DOMAIN_ID };
    const first = await client.ensureProject(projectInput);
    const second = await client.ensureProject({ ...projectInput, description: 'second run' });
    expect(first.created).toBe(true);
    expect(second).toEqual({ value: first.value, created: false });

    const userInput = newUserInput(first.value.id);
    const user = await client.ensureUser(userInput);
    const again = await client.ensureUser({ ...userInput, password: unique('Other!pass') });
    expect(user.created).toBe(true);
    expect(again).toEqual({ value: user.value, created: false });

    const member = await client.findRole('member');
    await client.assignProjectRole(first.value.id, user.value.id, member!.id);
    await client.assignProjectRole(first.value.id, user.value.id, member!.id);
    expect(await client.listRoleAssignments({ userId: user.value.id })).toHaveLength(1);
  });

  it('ensureProject recovers when another writer created the project between lookup and create', async () => {
    const input = { name: unique('Kaizen Race'), description: 'race', domainId: DOMAIN_ID };
    const winner = await client.createProject(input);
    // The lookup misses as if it ran just before the other writer's create landed.
    const lookup = vi.spyOn(client, 'findProjectByName').mockResolvedValueOnce(undefined);
    const create = vi.spyOn(client, 'createProject');
    try {
      const result = await client.ensureProject(input);
      expect(result).toEqual({ value: winner, created: false });
      expect(lookup).toHaveBeenCalledTimes(2);
      const [attempt] = create.mock.settledResults;
      expect(attempt?.type).toBe('rejected');
      expect(isKaizenError(attempt?.value, 'conflict')).toBe(true);
    } finally {
      lookup.mockRestore();
      create.mockRestore();
    }
  });

  it('ensureUser recovers from a real 409 the same way', async () => {
    const project = await client.createProject({
      name: unique('Kaizen Race'),
      description: '',
      domainId: DOMAIN_ID,
    });
    const input = newUserInput(project.id);
    const winner = await client.createUser(input);
    const lookup = vi.spyOn(client, 'findUserByName').mockResolvedValueOnce(undefined);
    try {
      expect(await client.ensureUser(input)).toEqual({ value: winner, created: false });
    } finally {
      lookup.mockRestore();
    }
  });

  it('two concurrent ensureProject calls end with one project', async () => {
    const input = { name: unique('Kaizen Twin'), description: '', domainId: DOMAIN_ID };
    const results = await Promise.all([client.ensureProject(input), client.ensureProject(input)]);
    expect(results[0].value.id).toBe(results[1].value.id);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});

describe('case-insensitive lookups', () => {
  it('finds projects whatever the case, wildcard characters included', async () => {
    const project = await client.createProject({
      name: unique('Kaizen Lab_x%'),
      description: '',
      domainId: DOMAIN_ID,
    });
    expect(await client.findProjectByName(project.name.toUpperCase(), DOMAIN_ID)).toEqual(project);
    expect(await client.findProjectByName(`  ${project.name.toLowerCase()} `, DOMAIN_ID)).toEqual(project);
    // `_` and `%` are LIKE wildcards: they must match themselves only.
    expect(await client.findProjectByName(project.name.replace('_', 'y'), DOMAIN_ID)).toBeUndefined();
    expect(await client.findProjectByName(unique('Kaizen Missing'), DOMAIN_ID)).toBeUndefined();
  });

  it('finds users by name or by email attribute, whatever the case', async () => {
    const project = await client.createProject({
      name: unique('Kaizen Users'),
      description: '',
      domainId: DOMAIN_ID,
    });
    const byEmail = await client.createUser({
      ...newUserInput(project.id, unique('jdoe')),
      email: `${unique('J.Doe')}@Example.org`,
    });
    const email = byEmail.email!;
    expect(await client.findUser(byEmail.name.toUpperCase(), DOMAIN_ID)).toEqual(byEmail);
    expect(await client.findUser(email.toLowerCase(), DOMAIN_ID)).toEqual(byEmail);
    expect(await client.findUser(email.toUpperCase(), DOMAIN_ID)).toEqual(byEmail);
    expect(await client.findUserByName(email, DOMAIN_ID)).toBeUndefined();
    expect(await client.findUser(`${unique('nobody')}@example.org`, DOMAIN_ID)).toBeUndefined();
  });

  it('prefers the exact name when names differ only by case, and refuses to guess otherwise', async (context) => {
    const project = await client.createProject({
      name: unique('Kaizen Case'),
      description: '',
      domainId: DOMAIN_ID,
    });
    const lower = await client.createUser(newUserInput(project.id, unique('ann')));
    const upperName = lower.name.replace('ann', 'Ann');
    // SQLite (the Keystone test/keystone/start.sh runs, in CI too) keeps `Ann` and `ann` apart. A
    // MySQL-backed Keystone refuses the second with 409; then this case cannot arise there, and the
    // test says it was skipped rather than passing without checking anything. CI must run it.
    const upper = await client.createUser(newUserInput(project.id, upperName)).catch((error: unknown) => {
      if (isKaizenError(error, 'conflict') && process.env.CI !== 'true') return undefined;
      throw error;
    });
    if (upper === undefined) {
      context.skip('this Keystone refuses user names that differ only by case');
      return;
    }
    expect(await client.findUserByName(lower.name, DOMAIN_ID)).toEqual(lower);
    expect(await client.findUserByName(upperName, DOMAIN_ID)).toEqual(upper);
    await expect(client.findUserByName(lower.name.toUpperCase(), DOMAIN_ID)).rejects.toMatchObject({
      kind: 'conflict',
    });
  });

  it('finds roles ignoring case', async () => {
    expect((await client.findRole('MEMBER'))?.name).toBe('member');
    expect((await client.findRole('admin'))?.name).toBe('admin');
  });
});
