/** Where the password page's parts live on its host, for the routes, the pages and the emails. */

/** A forgotten password is asked for here. */
export const FORGOT_PATH = '/forgot';

/** `/forgot` under PUBLIC_URL, for emails; undefined when there is no public page. */
export function forgotPageUrl(publicUrl: string | undefined): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}${FORGOT_PATH}` : undefined;
}
