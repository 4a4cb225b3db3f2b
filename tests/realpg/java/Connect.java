// Open JDBC URLs with pgJDBC, as a Java app does: DriverManager.getConnection(url, user,
// password), or getConnection(url) when the URL carries the credentials. One JVM for all
// cases: stdin has one "url<TAB>user<TAB>password" line each (user and password may be
// empty); stdout gets "user|database|ssl" or "ERROR|message" per line.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;

public class Connect {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            try (Connection conn = f[1].isEmpty()
                    ? DriverManager.getConnection(f[0])
                    : DriverManager.getConnection(f[0], f[1], f[2])) {
                ResultSet rs = conn.createStatement().executeQuery(
                    "select current_user, current_database(), coalesce((select ssl from"
                    + " pg_stat_ssl where pid = pg_backend_pid()), false)");
                rs.next();
                System.out.println(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getBoolean(3));
            } catch (Exception e) {
                System.out.println("ERROR|" + e.getMessage().replace("\n", " "));
            }
        }
    }
}
