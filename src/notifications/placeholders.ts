import Handlebars from 'handlebars';
import type { NotificationKind, NotificationTexts } from '../events/event-data.js';
import { listItemVariables, templateHelpers, templateVariables } from './template-variables.js';

/**
 * Checks an event's notification-text overrides against the variables their kind is rendered
 * with. Handlebars renders an unknown name as nothing (`{{eventTitle}}` went out empty), so the
 * admin API refuses it instead, naming the field and the unknown names. Pure: parses, never renders.
 */

export interface TemplateViolation {
  field: string;
  message: string;
}

const blockHelpers = new Set(['if', 'unless', 'each']);
const helpers = new Set<string>(templateHelpers);

type Node = hbs.AST.Node;

/** The names a template uses that its kind does not offer (in order of first use), or a syntax error. */
export function unknownVariables(template: string, kind: NotificationKind): { unknown: string[] } | { syntaxError: string } {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(template);
  } catch (error) {
    return { syntaxError: error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error) };
  }
  const known = new Set(templateVariables[kind]);
  const unknown: string[] = [];
  const flag = (name: string) => {
    if (!unknown.includes(name)) unknown.push(name);
  };

  /** `item` is the list an enclosing `each` walks, whose items' fields `this.x` (or `x`) name. */
  const checkPath = (path: hbs.AST.PathExpression, item: string | undefined) => {
    if (path.data) return; // @index, @first, ...
    const name = path.original.replace(/^this\./, '');
    if (item !== undefined) {
      if (path.original === 'this' || (listItemVariables[item] ?? []).includes(name)) return;
    }
    if (!known.has(name)) flag(path.original);
  };
  const checkExpression = (node: hbs.AST.Expression, item: string | undefined) => {
    if (node.type === 'PathExpression') checkPath(node as hbs.AST.PathExpression, item);
    else if (node.type === 'SubExpression') checkCall(node as hbs.AST.SubExpression, item);
  };
  const checkCall = (call: { path: hbs.AST.PathExpression | hbs.AST.Expression; params: hbs.AST.Expression[]; hash?: hbs.AST.Hash }, item: string | undefined) => {
    const name = call.path.type === 'PathExpression' ? (call.path as hbs.AST.PathExpression).original : undefined;
    if (call.params.length === 0 && !call.hash) {
      if (name !== undefined && helpers.has(name)) return;
      checkExpression(call.path, item);
      return;
    }
    if (name === undefined || !(helpers.has(name) || blockHelpers.has(name))) flag(name ?? '(expression)');
    for (const param of call.params) checkExpression(param, item);
    for (const pair of call.hash?.pairs ?? []) checkExpression(pair.value, item);
  };
  const walk = (node: Node, item: string | undefined): void => {
    switch (node.type) {
      case 'Program':
        for (const statement of (node as hbs.AST.Program).body) walk(statement, item);
        return;
      case 'MustacheStatement':
        checkCall(node as hbs.AST.MustacheStatement, item);
        return;
      case 'BlockStatement': {
        const block = node as hbs.AST.BlockStatement;
        const name = block.path.type === 'PathExpression' ? (block.path).original : '';
        if (!blockHelpers.has(name)) flag(`#${name}`);
        for (const param of block.params) checkExpression(param, item);
        const first = block.params[0];
        const list = name === 'each' && first?.type === 'PathExpression' ? (first as hbs.AST.PathExpression).original : undefined;
        walk(block.program, list ?? item);
        if (block.inverse) walk(block.inverse, item);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
      case 'DecoratorBlock':
      case 'Decorator':
        flag('>partial');
        return;
      default:
        return; // content, comments
    }
  };
  walk(program, undefined);
  return { unknown };
}

/** Every override of every kind and locale, checked; the field is `notificationTexts.<kind>.<locale>.<subject|body>`. */
export function checkNotificationTexts(texts: NotificationTexts | undefined): TemplateViolation[] {
  const violations: TemplateViolation[] = [];
  for (const [kind, byLocale] of Object.entries(texts ?? {}) as [NotificationKind, NonNullable<NotificationTexts[NotificationKind]>][]) {
    for (const [locale, text] of Object.entries(byLocale)) {
      for (const part of ['subject', 'body'] as const) {
        const template = text[part];
        if (template === undefined) continue;
        const field = `notificationTexts.${kind}.${locale}.${part}`;
        const result = unknownVariables(template, kind);
        if ('syntaxError' in result) violations.push({ field, message: `not a valid template: ${result.syntaxError}` });
        else if (result.unknown.length > 0) {
          violations.push({
            field,
            message: `unknown variables: ${result.unknown.join(', ')} (${kind} offers ${templateVariables[kind].join(', ')})`,
          });
        }
      }
    }
  }
  return violations;
}
