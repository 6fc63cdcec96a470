/* Smallest user of the installed library: the header compiles, and the one
 * call every version has links and reports the version that xsk_rs.pc names
 * (run.sh passes it as XSK_RS_EXPECTED_VERSION). */
#include <xsk_rs.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	const char *version = xsk_rs_version();

	if (version == NULL) {
		fprintf(stderr, "xsk_rs_version() returned NULL\n");
		return 1;
	}
#ifdef XSK_RS_EXPECTED_VERSION
	if (strcmp(version, XSK_RS_EXPECTED_VERSION) != 0) {
		fprintf(stderr, "xsk_rs_version() = \"%s\", xsk_rs.pc says \"%s\"\n",
			version, XSK_RS_EXPECTED_VERSION);
		return 1;
	}
#endif
	printf("libxsk_rs %s\n", version);
	return 0;
}
